import CareRecords
import XMLSupport

/// AllergyIntolerance, Condition, Immunization and CarePlan.
extension FHIRResource {
    func allergy() -> CareEntry? {
        let code = element.codeableConcept("code")
        let reactions = element.children("reaction")
            .flatMap { $0.children("manifestation") }
            .compactMap { $0.bestCoding?.display }
            .uniqued()
        return entry(
            .allergy, code: code,
            date: firstDate(element.fhirValue("recordedDate"), element.fhirValue("onsetDateTime")),
            summary: summary(
                code?.display.map(allergyHeadline),
                details: reactions.isEmpty ? nil : "reaction: " + reactions.joined(separator: ", "),
                element.fhirValue("criticality").map { "criticality: \($0)" }),
            status: clinicalStatus)
    }

    func condition() -> CareEntry? {
        let code = element.codeableConcept("code")
        return entry(
            .condition, code: code,
            date: firstDate(
                element.fhirValue("onsetDateTime"), element.fhirValue(at: "onsetPeriod", "start"),
                element.fhirValue("recordedDate")),
            summary: nil, status: clinicalStatus)
    }

    func immunization() -> CareEntry? {
        let code = element.codeableConcept("vaccineCode")
        let doseNumber = element.children("protocolApplied").lazy.compactMap {
            $0.fhirValue("doseNumberPositiveInt") ?? $0.fhirValue("doseNumberString")
        }.first
        let status = element.fhirValue("status")
        // A vaccine not given (refused, contraindicated, out of stock) is worth knowing, but its headline must say
        // so: a list of summaries would otherwise read as a vaccine the patient has had.
        let notGiven =
            status == "not-done"
            ? "not given" + (element.codeableConcept("statusReason")?.display.map { ": \($0)" } ?? "") : nil
        return entry(
            .immunisation, code: code, date: firstDate(element.fhirValue("occurrenceDateTime")),
            summary: summary(code?.display, details: notGiven, doseNumber.map { "dose \($0)" }),
            status: status)
    }

    func carePlan() -> CareEntry? {
        let code = element.child("category")?.bestCoding
        return entry(
            .carePlan, code: code,
            date: firstDate(element.fhirValue(at: "period", "start"), element.fhirValue("created")),
            summary: element.fhirValue("title") ?? element.fhirValue("description"),
            status: element.fhirValue("status"))
    }

    /// "Amoxicillin allergy", unless the concept already says what it is ("Allergy to penicillin",
    /// "No known drug allergy").
    private func allergyHeadline(_ display: String) -> String {
        if display.containsIgnoringCase("allerg") || display.containsIgnoringCase("intoleran") { return display }
        return display + (element.fhirValue("type") == "intolerance" ? " intolerance" : " allergy")
    }

    /// The clinical status, unless the verification status withdraws the fact: an allergy or condition
    /// entered in error or refuted must never read as `active`.
    private var clinicalStatus: String? {
        let verification = element.child("verificationStatus")?.bestCoding?.code
        if verification == "entered-in-error" || verification == "refuted" { return verification }
        return element.child("clinicalStatus")?.bestCoding?.code
    }
}
