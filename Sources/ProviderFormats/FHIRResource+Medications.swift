import CareRecords
import XMLSupport

/// MedicationStatement and MedicationRequest → `medication`.
extension FHIRResource {
    func medicationStatement() -> CareEntry? {
        let medicine = medicine()
        let dose = element.child("dosage")?.fhirValue("text")
        return entry(
            .medication, code: medicine,
            date: firstDate(
                element.fhirValue(at: "effectivePeriod", "start"), element.fhirValue("effectiveDateTime"),
                element.fhirValue("dateAsserted")),
            summary: summary(medicine?.display, details: dose),
            status: element.fhirValue("status"), dose: dose)
    }

    func medicationRequest() -> CareEntry? {
        let medicine = medicine()
        let dose = element.child("dosageInstruction")?.fhirValue("text")
        return entry(
            .medication, code: medicine, date: firstDate(element.fhirValue("authoredOn")),
            summary: summary(medicine?.display, details: dose),
            status: element.fhirValue("status"), dose: dose)
    }

    /// The medicine, coded inline or through a reference to a Medication in the same document (contained
    /// or another Bundle entry). An unresolvable reference still offers its `display`, when it has one.
    private func medicine() -> Coding? {
        if let concept = element.codeableConcept("medicationCodeableConcept") { return concept }
        if let medication = resolve("medicationReference"), let code = medication.codeableConcept("code") {
            return code
        }
        return element.fhirValue(at: "medicationReference", "display").map { Coding(display: $0) }
    }
}
