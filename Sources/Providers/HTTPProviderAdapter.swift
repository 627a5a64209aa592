import AsyncHTTPClient
import CareRecords
import Logging
import NIOCore
import NIOPosix
import ProviderFormats

/// A provider reached over HTTP(S): GET the patient's URL, check the answer, decode it with the provider's format.
///
/// Each provider has its own `HTTPClient`, so that its connection pool is sized for it (`max_connections`) and
/// one slow provider cannot take connections from another.
public final class HTTPProviderAdapter: ProviderAdapter {
    public let definition: ProviderDefinition
    private let client: HTTPClient
    private let decoder: any RecordDecoder
    private let logger: Logger

    public init(
        definition: ProviderDefinition,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.definition = definition
        self.decoder = Self.decoder(for: definition.format)
        var logger = logger
        logger[metadataKey: "provider"] = .string(definition.id.rawValue)
        self.logger = logger

        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: definition.maxConnections)
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: .milliseconds(Int64(definition.timeoutMilliseconds)))
        self.client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
    }

    static func decoder(for format: ProviderFormat) -> any RecordDecoder {
        switch format {
        case .fhirR4XML: FHIRR4XMLDecoder()
        }
    }

    /// Closes the connection pool. Call once, after the last fetch.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func fetch(_ patient: NHSNumber, deadline: ContinuousClock.Instant) async throws(ProviderFailure)
        -> DecodedRecord
    {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw .timeout() }
        var request = HTTPClientRequest(url: definition.url(for: patient))
        request.headers.add(name: "Accept", value: "application/fhir+xml, application/xml;q=0.9")
        request.headers.add(name: "User-Agent", value: "CareGate")
        request.headers.add(name: "CareGate-Deadline-Ms", value: String(remaining.wholeMilliseconds))

        let body: ByteBuffer
        do {
            let response = try await client.execute(
                request, deadline: .now() + .nanoseconds(remaining.wholeNanoseconds), logger: logger)
            guard response.status == .ok else {
                throw ProviderFailure.error("HTTP \(response.status.code) from provider")
            }
            let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
            guard contentType.contains("xml") else {
                throw ProviderFailure.error(
                    contentType.isEmpty ? "response has no content type" : "unexpected content type (expected XML)")
            }
            body = try await response.body.collect(upTo: definition.maxResponseBytes)
        } catch let failure as ProviderFailure {
            throw failure
        } catch {
            throw Self.failure(for: error, deadline: deadline, maxBytes: definition.maxResponseBytes)
        }
        do {
            return try decoder.decode(Array(body.readableBytesView), from: definition.id)
        } catch {
            throw .error(error.description)
        }
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
        return .error("transport error")
    }
}

extension Duration {
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var wholeMilliseconds: Int64 { wholeNanoseconds / 1_000_000 }
}
