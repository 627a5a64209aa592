import CareRecords
import Foundation

/// The wire formats a provider may answer in. Raw values are the spelling in provider files.
public enum ProviderFormat: String, CaseIterable, Sendable {
    case fhirR4XML = "fhir-r4-xml"
}

/// One provider as declared in `providers/<id>.yaml`.
///
/// Keys (all required unless marked):
/// - `id` (text: lower-case letters, digits, hyphens): how the gateway names the provider everywhere
/// - `name` (text): display name
/// - `kind` (`trust`, `gp`, `ambulance`, `nhs111`, `cardiac-monitoring`, `care-home`)
/// - `ods` (text): the organisation's ODS code
/// - `format` (`fhir-r4-xml`)
/// - `url` (http or https URL template containing `{nhs}`, replaced by the ten-digit NHS number)
/// - `timeout_ms` (1–60000): the longest the gateway waits for this provider, within the query's deadline
/// - `categories` (list of entry categories the provider supplies, e.g. `[medication, allergy]`)
/// - `max_connections` (optional, 1–1024, default 64): connection pool size for this provider
/// - `max_response_bytes` (optional, 1 KiB–256 MiB, default 16 MiB): larger responses are refused
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

    public static let placeholder = "{nhs}"

    public init(
        id: ProviderID, name: String, kind: ProviderKind, ods: String, format: ProviderFormat, urlTemplate: String,
        timeoutMilliseconds: Int, categories: Set<EntryCategory>, maxConnections: Int = 64,
        maxResponseBytes: Int = 16 * 1024 * 1024
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
    }

    /// The request URL for one patient. The NHS number is in the URL: never log it above debug level.
    public func url(for patient: NHSNumber) -> String {
        urlTemplate.replacingOccurrences(of: Self.placeholder, with: patient.digits)
    }

    static let keys: Set<String> = [
        "id", "name", "kind", "ods", "format", "url", "timeout_ms", "categories", "max_connections",
        "max_response_bytes",
    ]

    /// Reads and checks one provider file's text; `file` names it in errors.
    public init(yaml: String, file: String) throws(ConfigurationError) {
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
        try Self.checkURLTemplate(url, fields: fields)

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

        self.init(
            id: ProviderID(id), name: try fields.string("name")!, kind: kind, ods: try fields.string("ods")!,
            format: format, urlTemplate: url, timeoutMilliseconds: try fields.integer("timeout_ms", in: 1...60_000)!,
            categories: categories,
            maxConnections: try fields.integer("max_connections", in: 1...1024, required: false) ?? 64,
            maxResponseBytes: try fields.integer(
                "max_response_bytes", in: 1024...(256 * 1024 * 1024), required: false) ?? 16 * 1024 * 1024)
    }

    private static func checkURLTemplate(_ template: String, fields: YAMLFields) throws(ConfigurationError) {
        guard template.contains(placeholder) else {
            throw fields.error("url", "must contain \(placeholder) where the NHS number goes")
        }
        let sample = template.replacingOccurrences(of: placeholder, with: "9990000018")
        guard let components = URLComponents(string: sample), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw fields.error("url", "must be an absolute http:// or https:// URL with a host")
        }
    }
}
