import CareRecords
import ProviderFormats
import XMLSupport
import Yams

/// Reading a mapping file (`format: mapped-xml` providers): a declarative mapping from a bespoke XML format to
/// CareGate entries, checked completely when it is loaded.
///
/// ```yaml
/// # Declarative mapping from a bespoke XML format to CareGate entries (format: mapped-xml).
/// namespaces:
///   a: urn:caregate:example:ambulance-epcr:1
/// root: a:EPCRExport                 # optional: the expected root element (prefix:local)
/// patient: /a:EPCRExport/a:Patient/a:NHSNumber   # optional
/// entries:
///   - category: encounter
///     records: /a:EPCRExport/a:Incident
///     id: "@id"
///     code: a:Type/@code
///     code_system: http://snomed.info/sct
///     display: a:Type/@display
///     date: a:CallReceived
///     status: a:Status
///     summary: concat(a:Type/@display, ' — ', a:Outcome)
///     identifier: a:IncidentNumber
///     identifier_system: https://fhir.caregate.example/Id/ambulance-incident
/// ```
///
/// Keys at the top (all optional except `entries`):
/// - `namespaces` (mapping of prefix → namespace URI): the prefixes the expressions and `root` use. XPath 1.0
///   has no default namespace: an unprefixed name matches only an element in no namespace.
/// - `root` (`prefix:local`, or `local` for no namespace): documents with another root element are refused.
/// - `patient` (XPath from the document): the patient's NHS number; a value that is not one is ignored.
/// - `entries` (list, at least one): one rule per kind of record, each with
///   - `category` (required): an entry category (`encounter`, `observation`, `medication`, …)
///   - `records` (required, XPath giving nodes, evaluated from the document): one node per entry
///   - `id` (required, XPath from a record): the provider's id for it
///   - `code`, `display`, `date` (ISO 8601), `value` (decimal), `unit`, `status`, `dose`, `summary`,
///     `identifier` (optional, XPath from a record)
///   - `code_system`, `identifier_system` (optional, literal URIs, not XPath)
///   - `administered` (optional, `true` or `false`; only for `medication`): each record is a dose given at its
///     `date` — an ambulance crew's drugs given — not a medicine the patient is on, so two are merged only when
///     given at the same time
///
/// Every value is XPath 1.0 with only the core functions. Quote an expression that starts with `@`, `*`, `'`,
/// `"`, `[`, `{`, `|` or `!` in YAML (`id: "@id"`). Unknown keys are refused; every error names the file, the
/// line and the key, e.g. `ambulance.mapping.yaml:12: key 'entries[2].date': XPath does not compile: …`
/// (`entries` are counted from 0).
extension XMLMapping {
    static let fileKeys: Set<String> = ["namespaces", "root", "patient", "entries"]
    static let ruleKeys: Set<String> = [
        "category", "records", "id", "code", "code_system", "display", "date", "value", "unit", "status", "dose",
        "summary", "identifier", "identifier_system", "administered",
    ]

    /// Reads and checks one mapping file's text; `file` names it in errors.
    public init(yaml: String, file: String) throws(ConfigurationError) {
        let top = try YAMLFields(yaml: yaml, file: file, allowedKeys: Self.fileKeys)

        var namespaces: [String: String] = [:]
        if let node = top.value("namespaces") {
            let declared = try YAMLFields(node, file: file, path: "namespaces", allowedKeys: nil)
            for prefix in declared.keys {
                guard XMLName.isUsablePrefix(prefix) else {
                    throw declared.error(
                        prefix, "not a usable namespace prefix (letters, digits, '-', '_', '.'; not xml or xmlns)")
                }
                namespaces[prefix] = try declared.string(prefix)!
            }
        }

        var root: Root?
        if let text = try top.string("root", required: false) {
            root = try Self.root(text, namespaces: namespaces, top: top)
        }
        let patient = try top.xpath("patient", namespaces: namespaces, required: false)

        guard let entriesNode = top.value("entries") else { throw top.error("entries", "missing (required)") }
        guard let entries = entriesNode.sequence else { throw top.error("entries", "expected a list of entries") }
        guard !entries.isEmpty else { throw top.error("entries", "must list at least one entry") }
        var rules: [Rule] = []
        for (index, entry) in entries.enumerated() {
            let fields = try YAMLFields(entry, file: file, path: "entries[\(index)]", allowedKeys: Self.ruleKeys)
            rules.append(try Self.rule(fields, namespaces: namespaces))
        }
        self.init(namespaces: namespaces, patientNHSNumber: patient, root: root, rules: rules)
    }

    private static func root(
        _ text: String, namespaces: [String: String], top: YAMLFields
    ) throws(ConfigurationError) -> Root {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, parts.allSatisfy(XMLName.isNCName) else {
            throw top.error("root", "expected an element name, 'prefix:local' or 'local'")
        }
        guard parts.count == 2 else { return Root(localName: parts[0], namespace: nil) }
        guard let namespace = namespaces[parts[0]] else {
            throw top.error("root", "undeclared namespace prefix '\(parts[0])' (declare it under namespaces)")
        }
        return Root(localName: parts[1], namespace: namespace)
    }

    private static func rule(
        _ fields: YAMLFields, namespaces: [String: String]
    ) throws(ConfigurationError) -> Rule {
        let categoryText = try fields.string("category")!
        guard let category = EntryCategory(rawValue: categoryText) else {
            let known = EntryCategory.allCases.map(\.rawValue).joined(separator: ", ")
            throw fields.error("category", "unknown category '\(categoryText)' (one of: \(known))")
        }
        let records = try fields.xpath("records", namespaces: namespaces)!
        guard records.selectsNodes else {
            throw fields.error("records", "must select nodes (a path), not give a number, string or boolean")
        }
        let value = try fields.xpath("value", namespaces: namespaces, required: false)
        let unit = try fields.xpath("unit", namespaces: namespaces, required: false)
        if unit != nil && value == nil { throw fields.error("unit", "given without 'value'") }
        let identifier = try fields.xpath("identifier", namespaces: namespaces, required: false)
        let identifierSystem = try fields.uri("identifier_system")
        if identifierSystem != nil && identifier == nil {
            throw fields.error("identifier_system", "given without 'identifier'")
        }
        let administered = try fields.boolean("administered") ?? false
        if administered && category != .medication {
            throw fields.error("administered", "only for category medication (a dose given), not \(category.rawValue)")
        }
        return Rule(
            category: category, records: records, id: try fields.xpath("id", namespaces: namespaces)!,
            code: try fields.xpath("code", namespaces: namespaces, required: false),
            display: try fields.xpath("display", namespaces: namespaces, required: false),
            date: try fields.xpath("date", namespaces: namespaces, required: false), value: value, unit: unit,
            status: try fields.xpath("status", namespaces: namespaces, required: false),
            dose: try fields.xpath("dose", namespaces: namespaces, required: false),
            summary: try fields.xpath("summary", namespaces: namespaces, required: false), identifier: identifier,
            codeSystem: try fields.uri("code_system"), identifierSystem: identifierSystem, administered: administered)
    }
}

/// XML names as the file uses them: NCNames (no colon), ASCII letters plus anything beyond ASCII.
private enum XMLName {
    static func isNCName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isStart(first) else { return false }
        return text.unicodeScalars.allSatisfy { isStart($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }
    }

    /// A prefix a file may declare: an NCName other than the reserved `xml` and `xmlns`.
    static func isUsablePrefix(_ text: String) -> Bool {
        isNCName(text) && text != "xml" && text != "xmlns"
    }

    private static func isStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar.value > 0x7F
    }
}

extension YAMLFields {
    /// An XPath expression, checked now.
    func xpath(_ key: String, namespaces: [String: String], required: Bool = true) throws(ConfigurationError)
        -> XPathExpression?
    {
        guard let text = try string(key, required: required) else { return nil }
        do {
            return try XPathExpression(text, namespaces: namespaces)
        } catch {
            throw self.error(key, error.description)
        }
    }

    /// A literal URI (a code or identifier system).
    func uri(_ key: String) throws(ConfigurationError) -> String? {
        guard let text = try string(key, required: false) else { return nil }
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex,
            !text.contains(where: \.isWhitespace)
        else {
            throw error(key, "expected a URI such as http://snomed.info/sct (a literal, not XPath)")
        }
        return text
    }
}
