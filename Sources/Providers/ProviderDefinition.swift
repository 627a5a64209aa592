import CareRecords
import Foundation
import ProviderFormats

/// The wire formats a provider may answer in. Raw values are the spelling in provider files.
public enum ProviderFormat: String, CaseIterable, Sendable {
    /// A FHIR R4 `searchset` Bundle (or a single resource) in XML.
    case fhirR4XML = "fhir-r4-xml"
    /// HL7 CDA R2: one `ClinicalDocument`, or a wrapper element holding several.
    case cda
    /// A bespoke XML format read through a declarative mapping file (`mapping:`).
    case mappedXML = "mapped-xml"
}

/// One provider as declared in `providers/<id>.yaml`.
///
/// Keys (all required unless marked):
/// - `id` (text: lower-case letters, digits, hyphens): how the gateway names the provider everywhere
/// - `name` (text): display name
/// - `kind` (`trust`, `gp`, `ambulance`, `nhs111`, `cardiac-monitoring`, `care-home`, or `gateway` for another
///   CareGate gateway: federation, needing `format: fhir-r4-xml` and `auth: on_behalf_of:`)
/// - `ods` (text): the organisation's ODS code
/// - `format` (`fhir-r4-xml`, `cda` or `mapped-xml`)
/// - `mapping` (path, required with `mapped-xml` and refused otherwise): the mapping file, relative to the
///   provider file's folder
/// - `url` (http or https URL template containing `{nhs}`, replaced by the ten-digit NHS number)
/// - `timeout_ms` (1–60000): the longest the gateway waits for this provider, within the query's deadline
/// - `categories` (list of entry categories the provider supplies, e.g. `[medication, allergy]`)
/// - `schema` (optional path, relative to the provider file's folder): the XSD its responses follow, used by
///   `caregate providers check` (FHIR and CDA providers default to the official schemas in `schemas/`)
/// - `circuit_breaker` (optional mapping: `failures`, `error_rate`, `window`, `minimum_calls`, `cool_down_ms`;
///   see `CircuitBreakerSettings`)
/// - `max_connections` (optional, 1–1024, default 64): connection pool size for this provider (HTTP/1.1: at most
///   this many requests in flight to it at once; a pool smaller than the traffic makes the fan-out pool-bound)
/// - `http2` (optional, default true): offer HTTP/2 to an `https` provider (ALPN); it multiplexes every request
///   on one connection. `false` keeps HTTP/1.1. Plain `http` URLs always use HTTP/1.1 (no cleartext HTTP/2).
/// - `max_response_bytes` (optional, 1 KiB–256 MiB, default 16 MiB): larger responses are refused
/// - `retry_budget` (optional, 0–1, default 0.1): retries allowed per request. Only a GET that failed to connect,
///   or whose connection was reset or closed before any byte of an answer, is retried — once, and only while
///   the deadline leaves time for it. 0 turns retries off.
/// - `hedge` (optional, default false): when a request has not been answered within the provider's recent p95
///   (once 20 answers are known), send a second and take the first good answer, cancelling the other
/// - `tls` (optional mapping, `https` only: `ca_file`, `certificate_file`, `key_file`): the CAs trusted for the
///   provider and the client certificate for mutual TLS (see `ProviderTLS`)
/// - `auth` (optional mapping: `bearer_token_file`, or `on_behalf_of` for a gateway): a bearer token sent with
///   every request (see `ProviderAuth`); over plain `http` only to a loopback address, where no network carries it
public struct ProviderDefinition: Sendable, Hashable {
    public var id: ProviderID
    public var name: String
    public var kind: ProviderKind
    public var ods: String
    public var format: ProviderFormat
    public var urlTemplate: String
    public var timeoutMilliseconds: Int
    public var categories: Set<EntryCategory>
    public var maxConnections: Int
    public var maxResponseBytes: Int
    /// The `mapping:` value as written, for `mapped-xml`.
    public var mappingFile: String?
    /// The compiled mapping, for `mapped-xml`.
    public var mapping: XMLMapping?
    /// The XSD the provider's responses follow (a resolved path), when its file names one.
    public var schemaFile: String?
    /// When the provider's circuit breaker opens (`circuit_breaker:`).
    public var circuitBreaker = CircuitBreakerSettings()
    /// Retries allowed per request (`retry_budget:`).
    public var retryBudget = 0.1
    /// Whether a request slower than the provider's recent p95 gets a second one (`hedge:`).
    public var hedge = false
    /// Whether HTTP/2 is offered to an https provider (`http2:`).
    public var http2 = true
    /// The provider's TLS: trusted CAs and the client certificate (`tls:`), when its file sets them.
    public var tls: ProviderTLS?
    /// The bearer token sent to the provider (`auth:`), when its file names one.
    public var auth: ProviderAuth?

    public static let placeholder = "{nhs}"

    public init(
        id: ProviderID, name: String, kind: ProviderKind, ods: String, format: ProviderFormat, urlTemplate: String,
        timeoutMilliseconds: Int, categories: Set<EntryCategory>, maxConnections: Int = 64,
        maxResponseBytes: Int = 16 * 1024 * 1024, mappingFile: String? = nil, mapping: XMLMapping? = nil,
        circuitBreaker: CircuitBreakerSettings = CircuitBreakerSettings()
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.ods = ods
        self.format = format
        self.urlTemplate = urlTemplate
        self.timeoutMilliseconds = timeoutMilliseconds
        self.categories = categories
        self.maxConnections = maxConnections
        self.maxResponseBytes = maxResponseBytes
        self.mappingFile = mappingFile
        self.mapping = mapping
        self.circuitBreaker = circuitBreaker
    }

    /// The request URL for one patient. The NHS number is in the URL: never log it above debug level.
    public func url(for patient: NHSNumber) -> String {
        // A byte search rather than Foundation's `replacingOccurrences` (through NSString) or the standard
        // library's generic `firstRange(of:)`, both of which showed in `perf`: this runs for every provider of
        // every query.
        var template = urlTemplate
        let digits = patient.digits
        return template.withUTF8 { bytes in
            let placeholder = Self.placeholderBytes
            var url: [UInt8] = []
            url.reserveCapacity(bytes.count + 16)
            var copied = 0
            var index = 0
            while index + placeholder.count <= bytes.count {
                if bytes[index] == placeholder[0]
                    && bytes[index..<index + placeholder.count].elementsEqual(placeholder)
                {
                    url.append(contentsOf: bytes[copied..<index])
                    url.append(contentsOf: digits.utf8)
                    index += placeholder.count
                    copied = index
                } else {
                    index += 1
                }
            }
            url.append(contentsOf: bytes[copied...])
            return String(decoding: url, as: UTF8.self)
        }
    }

    private static let placeholderBytes = Array(placeholder.utf8)

    static let keys: Set<String> = [
        "id", "name", "kind", "ods", "format", "url", "timeout_ms", "categories", "max_connections",
        "max_response_bytes", "mapping", "schema", "circuit_breaker", "retry_budget", "hedge",
        "http2", "tls", "auth",
    ]

    /// Reads and checks one provider file's text; `file` names it in errors. A `mapping:` path is read relative
    /// to `folder` (by default the folder `file` is in). `files`: where the paths it names may lead.
    public init(
        yaml: String, file: String, relativeTo folder: String? = nil, files: ProviderFileAccess = .anywhere
    ) throws(ConfigurationError) {
        let fields = try YAMLFields(yaml: yaml, file: file, allowedKeys: Self.keys)

        let id = try fields.string("id")!
        guard ProviderID.isValid(id) else {
            throw fields.error("id", "must be 1–64 lower-case letters, digits or hyphens, starting with a letter")
        }
        let kindText = try fields.string("kind")!
        guard let kind = ProviderKind(rawValue: kindText) else {
            throw fields.error(
                "kind", "unknown kind '\(kindText)' (one of: \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let formatText = try fields.string("format")!
        guard let format = ProviderFormat(rawValue: formatText) else {
            throw fields.error(
                "format",
                "unknown format '\(formatText)' (one of: \(ProviderFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let url = try fields.string("url")!
        let (scheme, host) = try Self.checkURLTemplate(url, fields: fields)

        var categories: Set<EntryCategory> = []
        for name in try fields.strings("categories")! {
            guard let category = EntryCategory(rawValue: name) else {
                throw fields.error(
                    "categories",
                    "unknown category '\(name)' (one of: \(EntryCategory.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            categories.insert(category)
        }
        guard !categories.isEmpty else { throw fields.error("categories", "must list at least one category") }

        let resolve = ProviderFileResolver(base: folder ?? (file as NSString).deletingLastPathComponent, access: files)
        let mappingFile = try fields.string("mapping", required: false)
        var mapping: XMLMapping?
        switch (format, mappingFile) {
        case (.mappedXML, nil):
            throw fields.error("mapping", "missing (required with format mapped-xml)")
        case (.mappedXML, .some):
            let resolved = try resolve.path(of: "mapping", in: fields)!
            guard let data = FileManager.default.contents(atPath: resolved),
                let text = String(data: data, encoding: .utf8)
            else {
                throw fields.error("mapping", "cannot read the mapping file \(resolved)")
            }
            mapping = try XMLMapping(yaml: text, file: resolved)
        case (_, .some):
            throw fields.error("mapping", "only used with format mapped-xml")
        case (_, nil):
            break
        }

        self.init(
            id: ProviderID(id), name: try fields.string("name")!, kind: kind, ods: try fields.string("ods")!,
            format: format, urlTemplate: url, timeoutMilliseconds: try fields.integer("timeout_ms", in: 1...60_000)!,
            categories: categories,
            maxConnections: try fields.integer("max_connections", in: 1...1024, required: false) ?? 64,
            maxResponseBytes: try fields.integer(
                "max_response_bytes", in: 1024...(256 * 1024 * 1024), required: false) ?? 16 * 1024 * 1024,
            mappingFile: mappingFile, mapping: mapping)
        schemaFile = try resolve.path(of: "schema", in: fields)
        if let node = fields.value("circuit_breaker") {
            circuitBreaker = try CircuitBreakerSettings(
                YAMLFields(node, file: file, path: "circuit_breaker", allowedKeys: CircuitBreakerSettings.keys))
        }
        if let text = try fields.string("retry_budget", required: false) {
            guard let ratio = Double(text), (0...1).contains(ratio) else {
                throw fields.error("retry_budget", "expected a fraction between 0 and 1, got '\(text)'")
            }
            retryBudget = ratio
        }
        if let value = try fields.boolean("hedge") { hedge = value }
        if let value = try fields.boolean("http2") { http2 = value }
        if let node = fields.value("tls") {
            guard scheme == "https" else { throw fields.error("tls", "only for an https:// url") }
            tls = try ProviderTLS(
                YAMLFields(node, file: file, path: "tls", allowedKeys: ProviderTLS.keys), resolve: resolve)
        }
        if let node = fields.value("auth") {
            guard scheme == "https" || Self.isLoopback(host) else {
                throw fields.error("auth", "a token is sent only over https (or plain http to a loopback address)")
            }
            auth = try ProviderAuth(
                YAMLFields(node, file: file, path: "auth", allowedKeys: ProviderAuth.keys), resolve: resolve)
        }
        // Another gateway is asked only for a clinician (it decides access again), in FHIR, and only a gateway is:
        // a federated query is never passed on to a provider of this kind (one hop), which is what stops loops.
        switch (kind, auth?.onBehalfOf) {
        case (.gateway, nil):
            throw fields.error("auth", "a gateway is asked on behalf of the clinician: give auth.on_behalf_of")
        case (.gateway, .some):
            guard format == .fhirR4XML else { throw fields.error("format", "a gateway answers in fhir-r4-xml") }
        case (_, .some):
            throw fields.error("auth", "on_behalf_of is only for a provider of kind gateway")
        case (_, nil):
            break
        }
    }

    /// True for `localhost`, `::1` and an IPv4 address in 127.0.0.0/8, written as one. A name that merely begins
    /// with "127." (`127.0.0.1.example.org`) is a host on the network like any other.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Checks the template and returns its scheme and host, lower-cased.
    private static func checkURLTemplate(_ template: String, fields: YAMLFields) throws(ConfigurationError)
        -> (scheme: String, host: String)
    {
        guard template.contains(placeholder) else {
            throw fields.error("url", "must contain \(placeholder) where the NHS number goes")
        }
        let sample = template.replacingOccurrences(of: placeholder, with: "9990000018")
        guard let components = URLComponents(string: sample), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw fields.error("url", "must be an absolute http:// or https:// URL with a host")
        }
        return (scheme, host.lowercased())
    }
}
