import CareRecords
import XMLSupport

/// How to read one bespoke XML format: which nodes are entries, and where each field is, as XPath.
///
/// The compiled form of a mapping file (`Providers` reads the YAML). Every expression is checked when the
/// mapping is built, so a decoder never meets an expression that does not compile.
public struct XMLMapping: Sendable, Hashable {
    /// The root element a document must have, when the mapping says.
    public struct Root: Sendable, Hashable, CustomStringConvertible {
        public var localName: String
        /// The namespace URI; nil for an element in no namespace.
        public var namespace: String?

        public init(localName: String, namespace: String?) {
            self.localName = localName
            self.namespace = namespace
        }

        public var description: String {
            "<\(localName)> in " + (namespace.map { "namespace \($0)" } ?? "no namespace")
        }
    }

    /// One kind of entry: the nodes that are entries of `category`, and where each field is relative to one.
    ///
    /// `records` is evaluated from the document (so it works as an absolute path); every other expression is
    /// evaluated from one record node. A field whose expression gives nothing (or only whitespace) is absent.
    public struct Rule: Sendable, Hashable {
        public var category: EntryCategory
        /// Selects the record nodes, one entry each.
        public var records: XPathExpression
        /// The provider's own id for the entry.
        public var id: XPathExpression
        public var code: XPathExpression?
        public var display: XPathExpression?
        /// ISO 8601 date or date-time; a value that is not one is left out.
        public var date: XPathExpression?
        /// A measured value as decimal text, with `unit`.
        public var value: XPathExpression?
        public var unit: XPathExpression?
        public var status: XPathExpression?
        public var dose: XPathExpression?
        /// The line a clinician scans; defaults to the display, else the code, else the category's name.
        public var summary: XPathExpression?
        /// An identifier other providers may share for the same fact (an order, incident or document number).
        public var identifier: XPathExpression?
        /// The code system URI of `code` (e.g. `http://snomed.info/sct`).
        public var codeSystem: String?
        /// The identifier system URI of `identifier`; `urn:caregate:local` when not given.
        public var identifierSystem: String?
        /// Each record is a dose given (medication only; `CareEntry.administered`).
        public var administered: Bool

        public init(
            category: EntryCategory, records: XPathExpression, id: XPathExpression, code: XPathExpression? = nil,
            display: XPathExpression? = nil, date: XPathExpression? = nil, value: XPathExpression? = nil,
            unit: XPathExpression? = nil, status: XPathExpression? = nil, dose: XPathExpression? = nil,
            summary: XPathExpression? = nil, identifier: XPathExpression? = nil, codeSystem: String? = nil,
            identifierSystem: String? = nil, administered: Bool = false
        ) {
            self.administered = administered
            self.category = category
            self.records = records
            self.id = id
            self.code = code
            self.display = display
            self.date = date
            self.value = value
            self.unit = unit
            self.status = status
            self.dose = dose
            self.summary = summary
            self.identifier = identifier
            self.codeSystem = codeSystem
            self.identifierSystem = identifierSystem
        }

        /// The expressions read from each record, in this order: id, code, display, date, value, unit, status,
        /// dose, summary, identifier (nil for a field the rule does not map).
        var fields: [XPathExpression?] {
            [id, code, display, date, value, unit, status, dose, summary, identifier]
        }
    }

    /// The identifier system used when a rule gives none.
    public static let localIdentifierSystem = "urn:caregate:local"

    /// Prefix → namespace URI, as declared for the expressions.
    public var namespaces: [String: String]
    /// Where the patient's NHS number is, evaluated from the document.
    public var patientNHSNumber: XPathExpression?
    public var root: Root?
    public var rules: [Rule]

    /// Every expression of the mapping.
    public var expressions: [XPathExpression] {
        rules.map(\.records) + values
    }

    /// The expressions that give strings: the patient's NHS number and every rule's fields.
    private var values: [XPathExpression] {
        (patientNHSNumber.map { [$0] } ?? []) + rules.flatMap { $0.fields.compactMap { $0 } }
    }

    /// What a decoder parses of a document for this mapping (see `XMLReadScope.reading(selecting:valuing:)`):
    /// the elements and attributes its paths name, and the whole of every element whose text it reads. Each call
    /// makes a new scope, with parsers of its own: a decoder makes it once and keeps it.
    public var readScope: XMLReadScope {
        .reading(selecting: rules.map(\.records), valuing: values)
    }

    public init(
        namespaces: [String: String] = [:], patientNHSNumber: XPathExpression? = nil, root: Root? = nil,
        rules: [Rule]
    ) {
        self.namespaces = namespaces
        self.patientNHSNumber = patientNHSNumber
        self.root = root
        self.rules = rules
    }
}
