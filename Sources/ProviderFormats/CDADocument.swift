import CareRecords
import XMLSupport

/// One `ClinicalDocument` being decoded: its header becomes a `document` entry (and an `encounter` entry when
/// it names one), its record target the patient's demographics, and the coded entries of the sections the
/// gateway reads become entries of their own categories.
struct CDADocument {
    /// The OID under which CDA documents carry the NHS number.
    static let nhsNumberOID = "2.16.840.1.113883.2.1.4.1"

    let element: XMLElement
    let provider: ProviderID
    /// `root^extension` of the document's id, else its place in the response (`#2`). Every entry read from
    /// the document has a source id under this one, so each fact can be traced to the document it came from.
    let sourceID: String

    /// `position` is the document's place in the response, 1-based: its name when it has no id.
    init(element: XMLElement, provider: ProviderID, position: Int) {
        self.element = element
        self.provider = provider
        sourceID = element.cda("id")?.instanceIdentifier?.key ?? "#\(position)"
    }

    /// What a document adds to the record: its entries (appended to `record.entries` as they are read, not
    /// collected apart and copied over) and the parts it could not read. The caller checks the document's
    /// `patient` first, and reads nothing of a document about someone else.
    func read(into record: inout DecodedRecord) {
        // Both header entries show the title: read it once.
        let title = element.cda("title")?.plainText
        if let document = documentEntry(title: title) {
            record.entries.append(document)
        } else {
            record.unreadable += 1
        }
        switch encounterEntry(title: title) {
        case .entry(let encounter): record.entries.append(encounter)
        case .unreadable: record.unreadable += 1
        case .absent: break
        }
        readStatements(into: &record)
    }

    // MARK: - Header

    private func documentEntry(title: String?) -> CareEntry? {
        let code = element.cda("code")?.cdaCoding()
        let date = element.cda("effectiveTime")?.timestamp
        // A header without a type, title or date says only "there is a document": nothing a clinician can use.
        guard code != nil || title != nil || date != nil else { return nil }
        let headline = title ?? code?.display ?? "Clinical document"
        // The sdtc extension is how a CDA R2 document states a status other than final (e.g. `nullified`).
        let status = element.child("statusCode")?.cdaAttribute("code")
        // The document's id and set id, each once.
        var identifiers: [EntryIdentifier] = []
        if let id = element.cda("id")?.instanceIdentifier?.entryIdentifier { identifiers.append(id) }
        if let setID = element.cda("setId")?.instanceIdentifier?.entryIdentifier, !identifiers.contains(setID) {
            identifiers.append(setID)
        }
        return CareEntry(
            category: .document, code: code, date: date,
            summary: EntrySummary.marking(EntrySummary.text(headline, organisation), status: status),
            status: status ?? "final",
            identifiers: identifiers,
            source: SourceReference(provider: provider, id: sourceID))
    }

    /// The organisation that wrote the document: the first author's, else the custodian's.
    private var organisation: String? {
        // Plain loops rather than lazy chains in this file's hot reads: a lazy chain instantiates its generic
        // metadata at run time, once per document read, which costs more than the loop.
        for author in element.cdaChildren("author") {
            if let name = author.cda(at: "assignedAuthor", "representedOrganization", "name")?.plainText { return name }
        }
        return element.cda(at: "custodian", "assignedCustodian", "representedCustodianOrganization", "name")?
            .plainText
    }

    private enum EncounterReading {
        case entry(CareEntry)
        case unreadable
        case absent
    }

    /// The encounter the document belongs to (an NHS 111 call, an admission), from `componentOf`.
    private func encounterEntry(title: String?) -> EncounterReading {
        guard let encounter = element.cda(at: "componentOf", "encompassingEncounter") else { return .absent }
        let code = encounter.cda("code")?.cdaCoding()
        let date = encounter.cda("effectiveTime")?.timestamp
        guard code != nil || date != nil else { return .unreadable }
        let disposition = encounter.cda("dischargeDispositionCode")?.cdaCoding()?.display
        let headline = code?.display ?? "Encounter"
        let ids = encounter.instanceIdentifiers
        return .entry(
            CareEntry(
                category: .encounter, code: code, date: date,
                summary: EntrySummary.text(headline, title, disposition.map { "disposition: \($0)" }),
                identifiers: ids.count == 1 ? [ids[0].entryIdentifier] : ids.map(\.entryIdentifier).uniqued(),
                source: SourceReference(provider: provider, id: sourceID(of: ids.first, otherwise: "encounter"))))
    }

    // MARK: - Patient

    /// The record target's demographics, or nil when the document carries none.
    ///
    /// An NHS number that fails its check digit is dropped, not fatal, as in the FHIR decoder.
    var patient: PatientDemographics? {
        guard let role = element.cda(at: "recordTarget", "patientRole") else { return nil }
        var nhsNumber: NHSNumber?
        for id in role.cdaChildren("id")
        where id.cdaAttribute("root", is: Self.nhsNumberOID) && !id.isNullFlavored {
            if let number = id.cdaAttribute("extension").flatMap({ try? NHSNumber($0) }) {
                nhsNumber = number
                break
            }
        }
        let person = role.cda("patient")
        // `L` is HL7 v3's legal name, the one FHIR calls official; without one, the first name.
        var (legal, first): (XMLElement?, XMLElement?) = (nil, nil)
        for candidate in person?.cdaChildren("name") ?? XMLElement.NamedChildren() {
            if first == nil { first = candidate }
            if (candidate.attribute("use") ?? "").split(separator: " ").contains("L") {
                legal = candidate
                break
            }
        }
        let name = legal ?? first
        // Given names joined by spaces; usually there is one, taken as it is.
        var given: String?
        for part in name?.cdaChildren("given") ?? XMLElement.NamedChildren() {
            guard let words = part.plainText else { continue }
            given = given.map { $0 + " " + words } ?? words
        }
        let demographics = PatientDemographics(
            nhsNumber: nhsNumber, givenName: given, familyName: name?.cda("family")?.plainText,
            birthDate: person?.cda("birthTime")?.timestamp.flatMap(Self.day),
            gender: person?.cda("administrativeGenderCode").flatMap(Self.gender))
        return demographics == PatientDemographics() ? nil : demographics
    }

    /// A birth time as the day it falls on where it was written.
    private static func day(_ date: ClinicalDate) -> ClinicalDate? {
        date.precision == .time ? date.day.flatMap { ClinicalDate($0) } : date
    }

    /// HL7 AdministrativeGender and the NHS Person Gender codes, as FHIR's `gender` spells them.
    private static func gender(_ code: XMLElement) -> String? {
        guard !code.isNullFlavored, let value = code.cdaAttribute("code") else { return nil }
        switch code.cdaAttribute("codeSystem") {
        case "2.16.840.1.113883.2.1.3.2.4.16.25":
            switch value {
            case "1": return "male"
            case "2": return "female"
            case "9": return "other"
            case "0": return "unknown"
            default: return nil
            }
        case "2.16.840.1.113883.5.1", nil:
            switch value {
            case "M": return "male"
            case "F": return "female"
            case "UN": return "other"
            default: return nil
            }
        default:
            return nil
        }
    }

    // MARK: - Sections

    /// `<document>/<root^extension>` for something in the document, or `<document>/<fallback>` when it has no id;
    /// made in one allocation.
    private func sourceID(of id: CDAInstanceIdentifier?, otherwise fallback: @autoclosure () -> String) -> String {
        let fallback = id == nil ? fallback() : ""
        var text = ""
        text.reserveCapacity(
            sourceID.utf8.count + 1
                + (id.map { $0.root.utf8.count + 1 + ($0.extension?.utf8.count ?? 0) } ?? fallback.utf8.count))
        text += sourceID
        text += "/"
        if let id {
            id.appendKey(to: &text)
        } else {
            text += fallback
        }
        return text
    }

    /// Reads the coded entries of every section the gateway reads.
    ///
    /// A statement's own id names it in its source (`<document>/<root^extension>`) and is kept as an
    /// identifier, so a copy of the same fact from another provider can be matched. An id that more than one
    /// statement in the document carries identifies neither (C-CDA samples reuse ids across a panel's
    /// results), so it is not used: the merge would otherwise collapse different results into one. Such
    /// statements, and those without ids, are named by position instead (`<document>/#3`).
    private func readStatements(into record: inout DecodedRecord) {
        let sections = CDASection.readable(in: element)
        var found: [(statement: XMLElement, container: XMLElement?, section: Int, ids: [CDAInstanceIdentifier])] = []
        for (index, section) in sections.enumerated() {
            for entry in section.element.cdaChildren("entry") {
                let count = section.kind.forEachStatement(in: entry) { statement, container in
                    // A negated statement ("no known allergies", a medicine not taken) asserts an absence, which
                    // must never be shown as the thing itself. A vaccine not given is the exception: it is read
                    // as one (status `not-done`, "not given" in its summary), as FHIR's not-done Immunization is,
                    // because a refused tetanus vaccine is something A&E needs to know.
                    guard !statement.isNegated || section.kind == .immunisations else { return }
                    found.append((statement, container, index, statement.instanceIdentifiers))
                }
                if count == 0 { record.unreadable += 1 }
            }
        }
        var uses: [CDAInstanceIdentifier: Int] = [:]
        for item in found {
            // Counted once per statement: a statement repeating its own id does not make it ambiguous.
            for (offset, id) in item.ids.enumerated() where !item.ids[..<offset].contains(id) {
                uses[id, default: 0] += 1
            }
        }
        for (offset, item) in found.enumerated() {
            // Usually one id, used once: kept as it is, without filtering and de-duplicating copies.
            let ids = item.ids.count == 1 && uses[item.ids[0]] == 1 ? item.ids : item.ids.filter { uses[$0] == 1 }
            let statement = CDAStatement(
                element: item.statement, container: item.container, section: sections[item.section],
                source: SourceReference(provider: provider, id: sourceID(of: ids.first, otherwise: "#\(offset + 1)")),
                identifiers: ids.count == 1 ? [ids[0].entryIdentifier] : ids.map(\.entryIdentifier).uniqued())
            if let entry = statement.read() {
                record.entries.append(entry)
            } else {
                record.unreadable += 1
            }
        }
    }
}
