import CareRecords
import XMLSupport

/// MedicationStatement, MedicationRequest and MedicationAdministration → `medication`.
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

    /// A dose given once (`administered`): its time, the dose (the dosage's text, else its quantity), and how
    /// it stands — "given (Intravenous)", "not given: <reason>", "on hold" — so that a line read alone never
    /// passes a dose withheld for one given.
    func medicationAdministration() -> CareEntry? {
        let medicine = medicine()
        let dosage = element.child("dosage")
        let quantity = dosage?.child("dose").flatMap { dose in
            dose.fhirValue("value").map { value in
                (dose.fhirValue("unit") ?? dose.fhirValue("code")).map { "\(value) \($0)" } ?? value
            }
        }
        let dose = dosage?.fhirValue("text") ?? quantity
        let status = element.fhirValue("status")
        let administration: String? =
            switch status {
            case nil, "completed": "given" + (dosage?.codeableConcept("route")?.display.map { " (\($0))" } ?? "")
            case "not-done":
                "not given" + (element.codeableConcept("statusReason")?.display.map { ": \($0)" } ?? "")
            case "in-progress": "being given"
            case "on-hold": "on hold"
            case "stopped": "stopped"
            default: nil
            }
        return entry(
            .medication, code: medicine,
            date: firstDate(element.fhirValue("effectiveDateTime"), element.fhirValue(at: "effectivePeriod", "start")),
            summary: summary(medicine?.display, details: dose, administration),
            status: status, dose: dose, administered: true)
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
