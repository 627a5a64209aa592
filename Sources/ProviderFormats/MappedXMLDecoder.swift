import CareRecords
import XMLSupport

/// Decodes a bespoke XML format through a declarative `XMLMapping`, so a new bespoke provider needs a mapping
/// file, not Swift code.
///
/// A tolerant reader like the FHIR decoder: a record that yields nothing, or whose expressions fail, is counted
/// in `unreadable` and left out; only a document that is not acceptable XML, or whose root is not the mapping's,
/// throws. "Nothing" means no code, display, date, value, status, dose, summary or identifier; an id alone is
/// not an entry, and a summary without a letter or digit (the separator `concat(a, ' — ', b)` leaves when its
/// parts are missing) counts as none.
///
/// Each entry's source id is the record's `id`; a record without one gets a position, `<rule>#<record>`
/// (both counted from 1), which tells entries apart within the response but means nothing to the provider.
public struct MappedXMLDecoder: RecordDecoder {
    public let mapping: XMLMapping
    public let limits: XMLParseLimits
    /// What is parsed of a document: the mapping's `readScope` (only what its expressions can reach, with the
    /// names they compare shared, see `XMLReadScope.comparedNames`), unless widened (to `.everything`, say, to
    /// check that the scope leaves out nothing the mapping reads).
    private let scope: XMLReadScope
    /// Each rule's fields, compiled to be read together, in the order of `mapping.rules`.
    private let ruleFields: [MappedRuleFields]

    /// `readScope`, when given, must keep everything or record source positions (see `XPathDocument`).
    public init(mapping: XMLMapping, limits: XMLParseLimits = XMLParseLimits(), readScope: XMLReadScope? = nil) {
        self.mapping = mapping
        self.limits = limits
        scope = readScope ?? mapping.readScope
        precondition(scope.keepsEverything || scope.sourcePositions, "a mapped decoder's scope must pair its nodes")
        ruleFields = mapping.rules.map { [scope] in MappedRuleFields($0, scope: scope) }
    }

    public func decode(_ body: [UInt8], charset: String?, from provider: ProviderID) throws(DecodeError)
        -> DecodedRecord
    {
        let document: XPathDocument
        do {
            document = try XPathDocument(parsing: body, limits: limits, scope: scope, charset: charset)
        } catch {
            throw .xml(error)
        }
        if let expected = mapping.root {
            let root = document.root
            guard root.name == expected.localName, root.namespace == expected.namespace else {
                throw DecodeError(
                    .unexpectedRoot(element: root.name, namespace: root.namespace, expected: expected.description))
            }
        }

        var record = DecodedRecord()
        if let expression = mapping.patientNHSNumber, let text = try? document.string(expression),
            let number = try? NHSNumber(text)
        {
            record.patient = PatientDemographics(nhsNumber: number)
        }
        var values: [String?] = []
        for ruleIndex in ruleFields.indices {
            let nodes: [XPathNode]
            do {
                nodes = try document.nodes(selectedBy: ruleFields[ruleIndex].records)
            } catch {
                // Only a limit exceeded gets here (the mapping was checked when built): the rule's records are
                // there but cannot be read.
                record.unreadable += 1
                continue
            }
            for (recordIndex, node) in nodes.enumerated() {
                if let entry = ruleFields[ruleIndex].entry(
                    from: node, in: document, provider: provider,
                    position: (rule: ruleIndex + 1, record: recordIndex + 1), values: &values)
                {
                    record.entries.append(entry)
                } else {
                    record.unreadable += 1
                }
            }
        }
        return record
    }
}

/// A mapping rule's fields, read together from each record (see `XPathFieldSet`).
struct MappedRuleFields: Sendable {
    let records: XPathNodeSelector
    let fields: XPathFieldSet
    /// What the entries take from the rule itself, kept here so that reading a record copies no rule (a dozen
    /// references).
    let category: EntryCategory
    let codeSystem: String?
    let identifierSystem: String
    let administered: Bool

    init(_ rule: XMLMapping.Rule, scope: XMLReadScope) {
        records = XPathNodeSelector(rule.records, scope: scope)
        category = rule.category
        administered = rule.administered
        codeSystem = rule.codeSystem
        identifierSystem = rule.identifierSystem ?? XMLMapping.localIdentifierSystem
        fields = XPathFieldSet(rule.fields, scope: scope)
    }

    /// The entry the rule reads from the record, or nil when it offers nothing to show or cannot be read.
    /// `position` (rule and record, from 1) names a record without an id. `values` is scratch space, kept
    /// from one record to the next.
    func entry(
        from node: XPathNode, in document: XPathDocument, provider: ProviderID,
        position: (rule: Int, record: Int), values: inout [String?]
    ) -> CareEntry? {
        do {
            try document.strings(fields, from: node, into: &values)
        } catch {
            return nil
        }
        // Moved out of the scratch array last field first, rather than copied and then released with it.
        func next() -> String? { values.popLast() ?? nil }
        let identifier = next()
        // A summary built with concat() is never empty (`concat(a, ' — ', b)` gives " — " when both are
        // missing); one without a letter or digit says nothing, so it counts as absent.
        let summary = next().flatMap { Self.hasWordCharacter($0) ? $0 : nil }
        let (dose, status, unit, value, dateText, display, code) = (next(), next(), next(), next(), next(), next(), next())
        guard
            code != nil || display != nil || dateText != nil || value != nil || status != nil || dose != nil
                || summary != nil || identifier != nil
        else { return nil }
        let id = next() ?? "\(position.rule)#\(position.record)"
        // A bespoke system's words as a code ("Entered in error" → `entered-in-error`, as `CareEntry` keeps every
        // status), so that the summary says first that its source withdrew it, as FHIR's and CDA's do.
        let statusCode = status.map(CareEntry.statusCode)
        return CareEntry(
            category: category,
            code: code != nil || display != nil ? Coding(system: codeSystem, code: code, display: display) : nil,
            date: dateText.flatMap { ClinicalDate($0) },
            summary: EntrySummary.marking(summary ?? display ?? code ?? category.rawValue, status: statusCode),
            status: statusCode,
            value: value.map { Quantity(value: $0, unit: unit) },
            dose: dose,
            administered: administered,
            identifiers: identifier.map {
                [EntryIdentifier(system: identifierSystem, value: $0)]
            } ?? [],
            source: SourceReference(provider: provider, id: id))
    }

    /// True when the text holds a letter or digit. ASCII ones are found among the bytes; only a text without
    /// any looks at its scalars' properties.
    static func hasWordCharacter(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte >= 0x80 {
                ascii = false
            } else if (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) {
                return true
            }
        }
        return !ascii && text.unicodeScalars.contains { $0.properties.isAlphabetic || $0.properties.numericType != nil }
    }
}
