import CareRecords
import XMLSupport

/// One coded clinical statement in a section (a `substanceAdministration` or an `observation`), with the
/// act or organizer around it, read into an entry of the section's category.
///
/// What each category keeps is what the merge compares (DESIGN.md, "Merge and de-duplication"): a medicine's
/// code and dose text, an allergy's substance code, a result's code, value, unit and time. An entry offering
/// none of what identifies it is unreadable (nil).
struct CDAStatement {
    let element: XMLElement
    /// The concern act, discharge-medication act or organizer the statement sits in, when there is one.
    let container: XMLElement?
    let section: CDASection
    let source: SourceReference
    /// The statement's own ids that identify it (see `CDADocument`).
    let identifiers: [EntryIdentifier]

    func read() -> CareEntry? {
        switch section.kind {
        case .medications: medication()
        case .allergies: allergy()
        case .problems: problem()
        case .results: result(.testResult)
        case .vitalSigns: result(.observation)
        case .immunisations: immunisation()
        }
    }

    // MARK: - Categories

    private func medication() -> CareEntry? {
        let product = element.cda(at: "consumable", "manufacturedProduct")
        let material = product?.cda("manufacturedMaterial") ?? product?.cda("manufacturedLabeledDrug")
        var medicine = material?.cda("code")?.cdaCoding(in: .medicine, narrative: section.narrative)
        if medicine?.display == nil, let name = material?.cda("name")?.plainText {
            medicine = medicine.map { Coding(system: $0.system, code: $0.code, display: name) } ?? Coding(display: name)
        }
        let dose = section.narrative.words(of: element.cda("text")) ?? structuredDose
        guard medicine != nil || dose != nil else { return nil }
        return entry(
            .medication, code: medicine, date: element.effectiveDate,
            summary: summary(medicine?.display ?? "Medication", details: dose),
            status: element.cdaCode("statusCode"), dose: dose)
    }

    /// A vaccine given, or not given (negated): its code (CVX, SNOMED CT …) or name, else the entry's words, and
    /// the dose's number in its series (`repeatNumber`) when stated.
    private func immunisation() -> CareEntry? {
        let material = element.cda(at: "consumable", "manufacturedProduct", "manufacturedMaterial")
        var vaccine = material?.cda("code")?.cdaCoding(narrative: section.narrative)
        if vaccine?.display == nil, let name = material?.cda("name")?.plainText ?? section.narrative.words(of: element.cda("text")) {
            vaccine = vaccine.map { Coding(system: $0.system, code: $0.code, display: name) } ?? Coding(display: name)
        }
        guard let vaccine else { return nil }
        let dose = element.cda("repeatNumber")?.cdaAttribute("value").map { "dose \($0)" }
        guard element.isNegated else {
            return entry(
                .immunisation, code: vaccine, date: element.effectiveDate,
                summary: summary(vaccine.display ?? "Immunisation", details: dose),
                status: element.cdaCode("statusCode"))
        }
        // Not given: the reason is the refusal observation's code (C-CDA Immunization Refusal Reason, `RSON`).
        let reason = element.cdaChildren("entryRelationship").lazy.filter { $0.cdaAttribute("typeCode") == "RSON" }
            .compactMap { $0.cda("observation")?.cda("code")?.cdaCoding(narrative: self.section.narrative)?.display }
            .first
        return entry(
            .immunisation, code: vaccine, date: element.effectiveDate,
            summary: summary(vaccine.display ?? "Immunisation", details: "not given" + (reason.map { ": \($0)" } ?? ""), dose),
            status: "not-done")
    }

    private func allergy() -> CareEntry? {
        let substance = element.cdaChildren("participant").lazy.compactMap {
            $0.cda(at: "participantRole", "playingEntity")
        }.compactMap { entity -> Coding? in
            if let coding = entity.cda("code")?.cdaCoding(narrative: section.narrative) { return coding }
            return entity.cda("name")?.plainText.map { Coding(display: $0) }
        }.first
        // Without a substance, the allergy's type ("allergy to substance", "food intolerance") is all there is.
        let type = element.cda("value")?.cdaCoding(narrative: section.narrative)
        guard let code = substance ?? type else { return nil }
        let related = Array(element.cdaChildren("entryRelationship"))
        let reactions = related.filter { relationship in
            relationship.cdaAttribute("typeCode") == "MFST"
                || relationship.cda("observation")?.hasTemplate("2.16.840.1.113883.10.20.22.4.9") == true
        }.compactMap { $0.cda("observation") }
        let manifestations = reactions.compactMap { $0.cda("value")?.cdaCoding(narrative: section.narrative)?.display }
        // C-CDA has put the severity beside the allergy, on its concern act, and (since R2) on each reaction.
        let severity = [
            related, container.map { Array($0.cdaChildren("entryRelationship")) } ?? [],
            reactions.flatMap { $0.cdaChildren("entryRelationship") },
        ].lazy.compactMap { $0.lazy.compactMap(\.severity).first }.first
        return entry(
            .allergy, code: code, date: element.effectiveDate ?? container?.effectiveDate,
            summary: summary(
                allergyHeadline(
                    code.display ?? "Allergy", substance: substance != nil,
                    intolerance: type?.display?.containsIgnoringCase("intoleran") == true),
                details: manifestations.isEmpty ? nil : "reaction: " + manifestations.uniqued().joined(separator: ", "),
                severity.map { "severity: \($0)" }),
            status: concernStatus)
    }

    private func problem() -> CareEntry? {
        let condition =
            element.cda("value")?.cdaCoding(narrative: section.narrative)
            ?? section.narrative.words(of: element.cda("text")).map { Coding(display: $0) }
        guard let condition else { return nil }
        return entry(
            .condition, code: condition, date: element.effectiveDate ?? container?.effectiveDate,
            summary: condition.display ?? "Condition", status: concernStatus)
    }

    private func result(_ category: EntryCategory) -> CareEntry? {
        let test =
            element.cda("code")?.cdaCoding(narrative: section.narrative)
            ?? section.narrative.words(of: element.cda("text")).map { Coding(display: $0) }
        let valueElement = element.cda("value")
        let isNumeric = valueElement?.xsiType.map { ["PQ", "INT", "REAL"].contains($0) } ?? true
        let quantity = isNumeric ? valueElement?.physicalQuantity : nil
        let valueText =
            quantity.map { [$0.value, $0.unit].compactMap { $0 }.joined(separator: " ") }
            ?? valueElement?.codedOrStringValue(narrative: section.narrative)
        guard test != nil || quantity != nil || valueText != nil else { return nil }
        let name = test?.display ?? (category == .testResult ? "Test result" : "Observation")
        return entry(
            category, code: test, date: element.effectiveDate ?? container?.effectiveDate,
            summary: valueText.map { "\(name): \($0)" } ?? name,
            status: element.cdaCode("statusCode"), value: quantity)
    }

    // MARK: - Parts

    private func entry(
        _ category: EntryCategory, code: Coding?, date: ClinicalDate?, summary: String, status: String?,
        value: Quantity? = nil, dose: String? = nil
    ) -> CareEntry {
        CareEntry(
            category: category, code: code, date: date, summary: summary, status: status, value: value,
            dose: dose, identifiers: identifiers, source: source)
    }

    private func summary(_ headline: String, details first: String?, _ second: String? = nil) -> String {
        EntrySummary.text(headline, first, second)
    }

    /// "Penicillin allergy", unless the words already say what kind of reaction it is.
    private func allergyHeadline(_ display: String, substance: Bool, intolerance: Bool) -> String {
        if !substance || display.containsIgnoringCase("allerg") || display.containsIgnoringCase("intoleran") {
            return display
        }
        return display + (intolerance ? " intolerance" : " allergy")
    }

    /// An allergy or problem's clinical status: what its status observation states (C-CDA's Allergy Status or
    /// Problem Status Observation: `active`, `inactive`, `resolved`), else its concern act's status (`active`,
    /// `completed` for a concern no longer tracked), else nothing. Not the observation's own `statusCode`: that is
    /// `completed` whenever the observation was made, and says nothing of whether the allergy still is — read as
    /// the allergy's status, a penicillin allergy from a discharge summary was exported to FHIR as resolved.
    private var concernStatus: String? {
        for relationship in element.cdaChildren("entryRelationship") {
            if let stated = relationship.clinicalStatus { return stated }
        }
        return container.flatMap { $0.name == "act" ? $0.cdaCode("statusCode") : nil }
    }

    /// A dose from the structured fields when the entry has no words: `200 mg every 12 h`.
    private var structuredDose: String? {
        let quantity = element.cda("doseQuantity")?.physicalQuantity
            ?? element.cda(at: "doseQuantity", "center")?.physicalQuantity
        let amount = quantity.map { [$0.value, $0.unit].compactMap { $0 }.joined(separator: " ") }
        let period = element.cdaChildren("effectiveTime").lazy.compactMap { $0.cda("period")?.physicalQuantity }.first
        let frequency = period.map { "every " + [$0.value, $0.unit].compactMap { $0 }.joined(separator: " ") }
        let parts = [amount, frequency].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }
}

extension XMLElement {
    /// True when one of the element's `templateId`s has this root.
    func hasTemplate(_ root: String) -> Bool {
        cdaChildren("templateId").contains { $0.cdaAttribute("root", is: root) }
    }

    /// The clinical status an `entryRelationship` states (C-CDA Allergy Status or Problem Status Observation,
    /// LOINC 33999-4 "Status"), as FHIR's clinical status codes; nil for any other, or a value not one of the
    /// three SNOMED CT concepts C-CDA names.
    fileprivate var clinicalStatus: String? {
        guard let observation = cda("observation"),
            observation.hasTemplate("2.16.840.1.113883.10.20.22.4.28")
                || observation.hasTemplate("2.16.840.1.113883.10.20.22.4.6") || observation.cdaCode("code") == "33999-4"
        else { return nil }
        switch observation.cdaCode("value") {
        case "55561003": return "active"
        case "73425007": return "inactive"
        case "413322009": return "resolved"
        default: return nil
        }
    }

    /// The severity an `entryRelationship` states (C-CDA severity observation), as words.
    fileprivate var severity: String? {
        guard let observation = cda("observation"),
            observation.hasTemplate("2.16.840.1.113883.10.20.22.4.8") || observation.cdaCode("code") == "SEV"
        else { return nil }
        return observation.cda("value")?.cdaCoding()?.display
    }

    /// A non-numeric result value as words: a coded value's display (else its code), or a string's text.
    fileprivate func codedOrStringValue(narrative: CDANarrative) -> String? {
        guard !isNullFlavored else { return nil }
        switch xsiType {
        case "CD", "CE", "CV", "CO":
            let coding = cdaCoding(narrative: narrative)
            return coding?.display ?? coding?.code
        case nil where attribute("code") != nil || attribute("displayName") != nil:
            let coding = cdaCoding(narrative: narrative)
            return coding?.display ?? coding?.code
        case "ST", "ED", nil:
            return plainText
        case "BL":
            return cdaAttribute("value").map { $0 == "true" ? "yes" : $0 == "false" ? "no" : $0 }
        default:
            return nil
        }
    }
}
