import AsyncHTTPClient
import CareRecords
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ProviderFormats
import Synchronization
import XMLSupport

/// A provider reached over HTTP(S): GET the patient's URL, check the answer, decode it with the provider's format.
///
/// Each provider has its own `HTTPClient`, so that its connection pool is sized for it (`max_connections`) and
/// one slow provider cannot take connections from another.
public final class HTTPProviderAdapter: ProviderAdapter {
    public let definition: ProviderDefinition
    private let client: HTTPClient
    private let retryBudget: RetryBudget
    private let retryCount = Atomic<Int>(0)
    /// The decoder for the provider's format.
    public let decoder: any RecordDecoder
    private let logger: Logger

    public init(
        definition: ProviderDefinition,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.definition = definition
        self.decoder = Self.decoder(for: definition)
        self.retryBudget = RetryBudget(ratio: definition.retryBudget)
        var logger = logger
        logger[metadataKey: "provider"] = .string(definition.id.rawValue)
        self.logger = logger

        self.client = HTTPClient(
            eventLoopGroupProvider: .shared(eventLoopGroup), configuration: Self.clientConfiguration(for: definition))
    }

    /// The provider's own client: no redirects, a pool of `max_connections`, HTTP/2 offered or not (`http2`), a
    /// connect timeout of the provider's timeout, and the provider's TLS (`tls`) when its file sets one.
    static func clientConfiguration(for definition: ProviderDefinition) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        if let tls = definition.tls { configuration.tlsConfiguration = tls.configuration() }
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: definition.maxConnections)
        // A connection that cannot be made fails its request at once, with its reason: the client's own retries
        // (with backoff, until the connect timeout) would spend the provider's whole timeout on a refused port or
        // an untrusted certificate, report it as a timeout, and retry outside the retry budget. `exchange`
        // retries once, within the budget.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = definition.http2 ? .automatic : .http1Only
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: .milliseconds(Int64(definition.timeoutMilliseconds)))
        // CareGate bootstraps no tracer; left at the global no-op one, the client still builds a span's attributes
        // (parsing the URL again) for every request.
        configuration.tracing.tracer = nil
        return configuration
    }

    static func decoder(for definition: ProviderDefinition) -> any RecordDecoder {
        let limits = XMLParseLimits(maxBytes: definition.maxResponseBytes)
        switch definition.format {
        case .fhirR4XML: return FHIRR4XMLDecoder(limits: limits, gateway: definition.kind == .gateway)
        case .cda: return CDADecoder(limits: limits)
        case .mappedXML:
            guard let mapping = definition.mapping else {
                preconditionFailure("a mapped-xml provider definition always carries its mapping")
            }
            return MappedXMLDecoder(mapping: mapping, limits: limits)
        }
    }

    /// Closes the connection pool. Call once, after the last fetch.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// True when a (lower-cased) content type names XML: `application/fhir+xml`, `text/xml; charset=utf-8` …
    /// Searched byte by byte: with Foundation imported, `String.contains` goes through NSString, and this runs
    /// for every provider answer.
    static func mentionsXML(_ contentType: String) -> Bool {
        let bytes = Array(contentType.utf8)
        guard bytes.count >= 3 else { return false }
        for index in 0...(bytes.count - 3)
        where bytes[index] == UInt8(ascii: "x") && bytes[index + 1] == UInt8(ascii: "m") && bytes[index + 2] == UInt8(ascii: "l") {
            return true
        }
        return false
    }

    /// The most pages of one patient's results followed (see `fetch`).
    public static let maximumPages = 50

    /// The patient's record from the provider: its answer decoded, and when that is one page of several (a FHIR
    /// searchset Bundle with a `next` link), every following page too, within the same deadline, merged into one
    /// record. A page that cannot be had fails the provider as a whole: part of a record shown as if it were all
    /// of it could hide the very medicine or allergy a clinician is looking for. A `next` link must stay on the
    /// provider's own scheme, host and port (the gateway's credentials for the provider go with it).
    public func fetch(_ patient: NHSNumber, deadline: ContinuousClock.Instant) async throws(ProviderFailure)
        -> DecodedRecord
    {
        let first = definition.url(for: patient)
        var record = try await fetchPage(first, deadline: deadline)
        var pages = 1
        while let next = record.nextPage {
            guard pages < Self.maximumPages else {
                throw .error("more than \(Self.maximumPages) pages of results; the record would be incomplete")
            }
            guard let url = Self.sameOrigin(next, as: first) else {
                throw .error("page \(pages + 1) of the results is on another server; not followed")
            }
            let page: DecodedRecord
            do {
                page = try await fetchPage(url, deadline: deadline)
            } catch {
                throw ProviderFailure(error.kind, "page \(pages + 1) of the results: \(error.reason)")
            }
            record.entries += page.entries
            record.unreadable += page.unreadable
            record.patient = record.patient ?? page.patient
            record.nextPage = page.nextPage
            // Another gateway repeats its notices on every page.
            for relayed in page.relayedOutcomes where !record.relayedOutcomes.contains(relayed) {
                record.relayedOutcomes.append(relayed)
            }
            pages += 1
        }
        return record
    }

    private func fetchPage(_ url: String, deadline: ContinuousClock.Instant) async throws(ProviderFailure) -> DecodedRecord {
        let response = try await exchange(url: url, deadline: deadline)
        guard response.status == 200 else { throw .error("HTTP \(response.status) from provider") }
        guard Self.mentionsXML(response.contentType) else {
            throw .error(
                response.contentType.isEmpty ? "response has no content type" : "unexpected content type (expected XML)")
        }
        do {
            return try decoder.decode(response.body, charset: response.charset, from: definition.id)
        } catch {
            throw .error(error.description)
        }
    }

    /// `link`, resolved against `base` (a FHIR link is absolute; a relative one is taken as a browser would),
    /// when it has `base`'s scheme, host and port; nil otherwise.
    static func sameOrigin(_ link: String, as base: String) -> String? {
        guard let baseURL = URL(string: base), let url = URL(string: link, relativeTo: baseURL)?.absoluteURL,
            let scheme = url.scheme?.lowercased(), scheme == baseURL.scheme?.lowercased(),
            let host = url.host?.lowercased(), host == baseURL.host?.lowercased()
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        guard (url.port ?? defaultPort) == (baseURL.port ?? defaultPort) else { return nil }
        return url.absoluteString
    }

    /// One GET of the patient's URL, whatever its status: what the conformance check inspects and `fetch` decodes.
    /// The body is read up to `max_response_bytes`; a larger one is a failure, never truncated silently.
    public func exchange(_ patient: NHSNumber, deadline: ContinuousClock.Instant) async throws(ProviderFailure)
        -> ProviderResponse
    {
        try await exchange(url: definition.url(for: patient), deadline: deadline)
    }

    /// One GET of `url` (the patient's, or a page after it), whatever its status.
    func exchange(url: String, deadline: ContinuousClock.Instant) async throws(ProviderFailure) -> ProviderResponse {
        retryBudget.recordRequest()
        var retried = false
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw .timeout() }
            let authorization = try await definition.auth?.authorization()
            let request: HTTPClient.Request
            do {
                var headers: HTTPHeaders = [
                    "Accept": "application/fhir+xml, application/xml;q=0.9", "User-Agent": "CareGate",
                    "CareGate-Deadline-Ms": String(Self.advertisedBudget(remaining).wholeMilliseconds),
                ]
                if let authorization { headers.add(name: "Authorization", value: authorization) }
                if let requestID = QueryCorrelation.requestID { headers.add(name: QueryCorrelation.header, value: requestID) }
                // Another gateway decides a break-glass query as this one did: it needs the stated reason too.
                if definition.auth?.onBehalfOf != nil, let reason = OnBehalfOf.current?.breakGlassReason {
                    headers.add(name: "CareGate-Break-Glass-Reason", value: reason)
                }
                request = try HTTPClient.Request(url: url, method: .GET, headers: headers)
            } catch {
                // The URL template was checked when the definition was loaded; never the URL itself (NHS number).
                throw .error("the provider URL cannot be requested: \(type(of: error))")
            }
            let collector = ProviderResponseCollector(maxBytes: definition.maxResponseBytes)
            let task = client.execute(
                request: request, delegate: collector, deadline: .now() + .nanoseconds(remaining.wholeNanoseconds),
                logger: logger)
            do {
                // A cancelled query (the client went away, or the deadline's watchdog) cancels the request.
                return try await withTaskCancellationHandler {
                    try await task.futureResult.get()
                } onCancel: {
                    task.cancel()
                }
            } catch {
                // No byte of an answer arrived: a GET is safe to send again, once, if time and budget allow.
                if !retried, !collector.receivedHead, Self.isRetryable(error),
                    ContinuousClock.now.duration(to: deadline) > Self.minimumRetryTime, retryBudget.withdraw()
                {
                    retried = true
                    retryCount.add(1, ordering: .relaxed)
                    logger.debug("retrying after a connection failure", metadata: ["reason": "\(type(of: error))"])
                    continue
                }
                throw Self.failure(for: error, deadline: deadline, maxBytes: definition.maxResponseBytes)
            }
        }
    }

    /// The budget told to the provider: what remains minus a safety margin for the answer's way back and its
    /// decoding (a tenth, between 5 and 50 ms), so a provider that honours it answers in time.
    static func advertisedBudget(_ remaining: Duration) -> Duration {
        let margin = min(max(remaining / 10, .milliseconds(5)), .milliseconds(50))
        return max(remaining - margin, .milliseconds(1))
    }

    /// Retries sent so far (for tests and the benchmark).
    public var retries: Int { retryCount.load(ordering: .relaxed) }

    /// Less than this left before the deadline, a retry could not finish: fail at once instead.
    static let minimumRetryTime: Duration = .milliseconds(20)

    /// Failures that happen before any byte of an answer: connecting refused or failed, or the connection reset
    /// or closed while the request was going out. Timeouts are not retried (the time is gone).
    static func isRetryable(_ error: any Error) -> Bool {
        if error is CancellationError { return false }
        if let error = error as? HTTPClientError {
            return error == .remoteConnectionClosed
        }
        if let error = error as? IOError { return error.errnoCode == ECONNRESET || error.errnoCode == ECONNREFUSED }
        if error is NIOConnectionError { return true }
        if let error = error as? ChannelError { return error == .ioOnClosedChannel || error == .eof }
        return false
    }

    /// Maps transport errors to a short reason a clinician's portal can show. Never includes the URL (it holds
    /// the NHS number).
    static func failure(for error: any Error, deadline: ContinuousClock.Instant, maxBytes: Int) -> ProviderFailure {
        if error is CancellationError || ContinuousClock.now >= deadline { return .timeout() }
        if error is NIOTooManyBytesError { return .error("response larger than \(maxBytes) bytes") }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout: return .timeout()
            case .connectTimeout: return .timeout("connect timed out")
            case .remoteConnectionClosed: return .error("connection closed before a complete response")
            case .cancelled: return .timeout()
            default: return .error("HTTP client error: \(error.shortDescription)")
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNRESET: return .error("connection reset by provider")
            case ECONNREFUSED: return .error("connection refused")
            default: return .error("network error (errno \(error.errnoCode))")
            }
        }
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return .error("connection refused")
            }
            return .error("could not connect")
        }
        if error is ChannelError { return .error("connection failed") }
        if let reason = tlsReason(error) { return .error(reason) }
        return .error("transport error")
    }
}

extension HTTPProviderAdapter {
    /// What went wrong in a TLS handshake, for the provider team and the operator, from BoringSSL's reason (an
    /// untrusted certificate, a client certificate missing or refused). Holds no URL and nothing a provider sent.
    static func tlsReason(_ error: any Error) -> String? {
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "TLS: the provider's certificate does not name its host"
        }
        let reason: String?
        if let error = error as? BoringSSLError {
            reason = Self.reason(in: "\(error)")
        } else if let error = error as? NIOSSLError {
            guard case .handshakeFailed(let cause) = error else { return "TLS error (\(error))" }
            reason = Self.reason(in: "\(cause)")
        } else {
            return nil
        }
        switch reason {
        case "CERTIFICATE_VERIFY_FAILED"?:
            return "TLS: the provider's certificate is not trusted (CERTIFICATE_VERIFY_FAILED)"
        case "TLSV1_ALERT_CERTIFICATE_REQUIRED"?:
            return "TLS: the provider requires a client certificate (TLSV1_ALERT_CERTIFICATE_REQUIRED)"
        case let reason? where reason.hasSuffix("_BAD_CERTIFICATE") || reason.hasSuffix("_UNKNOWN_CA")
            || reason.hasSuffix("_CERTIFICATE_UNKNOWN") || reason.hasSuffix("_CERTIFICATE_EXPIRED"):
            return "TLS: the provider refused the gateway's client certificate (\(reason))"
        case let reason?:
            return "TLS handshake failed (\(reason))"
        case nil:
            return "TLS handshake failed"
        }
    }

    /// BoringSSL's reason code in an error's text: "error:1000007d:SSL routines:OPENSSL_internal:REASON at …".
    private static func reason(in text: String) -> String? {
        guard let range = text.range(of: "OPENSSL_internal:") else { return nil }
        let reason = text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return reason.isEmpty ? nil : String(reason)
    }
}

extension Duration {
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var wholeMilliseconds: Int64 { wholeNanoseconds / 1_000_000 }
}

/// A provider's raw answer.
public struct ProviderResponse: Sendable {
    public var status: Int
    /// Lower-cased; empty when the provider sent none.
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// The content type's `charset` parameter (`application/xml; charset="ISO-8859-1"`), unquoted; nil when it
    /// has none. The decoders read a document that states no encoding of its own in it.
    public var charset: String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, Self.trimmed(pair[0]) == "charset" else { continue }
            var value = Self.trimmed(pair[1])
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let isBlank = { (character: Character) in character == " " || character == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return text[first...last]
    }
}
