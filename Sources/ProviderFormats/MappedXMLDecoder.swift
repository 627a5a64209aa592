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
    /// Every name the mapping's expressions compare, so that the tree holds the expressions' own Strings and a
    /// comparison finds them identical at once (see `XMLReadScope.comparedNames`). Keeps every node.
    private let scope: XMLReadScope

    public init(mapping: XMLMapping, limits: XMLParseLimits = XMLParseLimits()) {
        self.mapping = mapping
        self.limits = limits
        scope = .everything(comparing: mapping.expressions)
    }

    public func decode(_ body: [UInt8], from provider: ProviderID) throws(DecodeError) -> DecodedRecord {
        let document: XPathDocument
        do {
            document = try XPathDocument(parsing: body, limits: limits, scope: scope)
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
        // By index, each rule read in place: binding a rule to a name copies it, which retains every one of its
        // expressions.
        for ruleIndex in mapping.rules.indices {
            let nodes: [XPathNode]
            do {
                nodes = try document.nodes(matching: mapping.rules[ruleIndex].records)
            } catch {
                // Only a limit exceeded gets here (the mapping was checked when built): the rule's records are
                // there but cannot be read.
                record.unreadable += 1
                continue
            }
            for (recordIndex, node) in nodes.enumerated() {
                let reader = MappedRecordReader(document: document, node: node)
                if let entry = reader.entry(
                    mapping.rules[ruleIndex], provider: provider,
                    position: (rule: ruleIndex + 1, record: recordIndex + 1))
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

/// Reads one record node.
struct MappedRecordReader {
    let document: XPathDocument
    let node: XPathNode

    /// The entry `rule` reads from the record, or nil when it offers nothing to show or cannot be read.
    ///
    /// The rule is a parameter rather than a stored property: storing it would copy (retain) every one of its
    /// expressions for each record.
    /// `position` (rule and record, from 1) names a record without an id.
    func entry(_ rule: XMLMapping.Rule, provider: ProviderID, position: (rule: Int, record: Int)) -> CareEntry? {
        do {
            let code = try field(rule.code)
            let display = try field(rule.display)
            let dateText = try field(rule.date)
            let value = try field(rule.value)
            let status = try field(rule.status)
            let dose = try field(rule.dose)
            // A summary built with concat() is never empty (`concat(a, ' — ', b)` gives " — " when both are
            // missing); one without a letter or digit says nothing, so it counts as absent.
            let summary = try field(rule.summary).flatMap { text in
                text.unicodeScalars.contains(where: Self.isWordCharacter) ? text : nil
            }
            let identifier = try field(rule.identifier)
            guard
                code != nil || display != nil || dateText != nil || value != nil || status != nil || dose != nil
                    || summary != nil || identifier != nil
            else { return nil }
            let id = try field(rule.id) ?? "\(position.rule)#\(position.record)"
            return CareEntry(
                category: rule.category,
                code: code != nil || display != nil
                    ? Coding(system: rule.codeSystem, code: code, display: display) : nil,
                date: dateText.flatMap { ClinicalDate($0) },
                summary: summary ?? display ?? code ?? rule.category.rawValue,
                status: status,
                value: try value.map { Quantity(value: $0, unit: try field(rule.unit)) },
                dose: dose,
                identifiers: identifier.map {
                    [EntryIdentifier(system: rule.identifierSystem ?? XMLMapping.localIdentifierSystem, value: $0)]
                } ?? [],
                source: SourceReference(provider: provider, id: id))
        } catch {
            return nil
        }
    }

    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    private func field(_ expression: XPathExpression?) throws(XPathError) -> String? {
        guard let expression else { return nil }
        return try document.string(expression, from: node)
    }
}
