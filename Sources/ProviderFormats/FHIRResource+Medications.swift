import CareRecords
import XMLSupport

/// MedicationStatement, MedicationRequest, MedicationDispense and MedicationAdministration → `medication`.
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

    /// A pharmacy's supply: the medicine and its instructions, dated when handed over (else prepared), with what was
    /// supplied — "dispensed 21 capsule, 7 Day supply" — or how the dispense stands when it was not completed. The
    /// dispense's status describes the supply, not whether the patient is still on the medicine (a `completed`
    /// dispense is not a medicine ended), so only a withdrawal (`entered-in-error`) is kept as the entry's status.
    func medicationDispense() -> CareEntry? {
        let medicine = medicine()
        let dose = element.child("dosageInstruction")?.fhirValue("text")
        let status = element.fhirValue("status")
        let supply: String? =
            switch status {
            case nil, "completed":
                "dispensed" + (element.child("quantity")?.quantityText.map { " " + $0 } ?? "")
                    + (element.child("daysSupply")?.quantityText.map { ", \($0) supply" } ?? "")
            case "entered-in-error": String?.none
            case let other?: "dispense " + other.split(separator: "-").joined(separator: " ")
            }
        return entry(
            .medication, code: medicine,
            date: firstDate(element.fhirValue("whenHandedOver"), element.fhirValue("whenPrepared")),
            summary: summary(medicine?.display, details: dose, supply),
            status: status == "entered-in-error" ? status : nil, dose: dose)
    }

    /// A dose given once (`administered`): its time, the dose (the dosage's text, else its quantity), and how
    /// it stands — "given (Intravenous)", "not given: <reason>", "on hold" — so that a line read alone never
    /// passes a dose withheld for one given.
    func medicationAdministration() -> CareEntry? {
        let medicine = medicine()
        let dosage = element.child("dosage")
        let dose = dosage?.fhirValue("text") ?? dosage?.child("dose")?.quantityText
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
