import CareRecords
import XMLSupport

/// Encounter and Appointment.
extension FHIRResource {
    func encounter() -> CareEntry? {
        let encounterType = element.codeableConcept("type")
        let serviceType = element.codeableConcept("serviceType")
        // In R4 an Encounter's class is a Coding, not a CodeableConcept.
        let encounterClass = element.child("class")?.coding
        let code = encounterType ?? serviceType ?? encounterClass
        var headline = (encounterType ?? serviceType)?.display
        if let classDisplay = encounterClass?.display {
            headline = headline.map { $0 == classDisplay ? $0 : "\($0) (\(classDisplay))" } ?? classDisplay
        }
        let reasons = element.children("reasonCode").compactMap { $0.bestCoding?.display }.uniqued()
        return entry(
            .encounter, code: code, date: firstDate(element.fhirValue(at: "period", "start")),
            summary: summary(headline, details: reasons.isEmpty ? nil : "reason: " + reasons.joined(separator: ", ")),
            status: element.fhirValue("status"))
    }

    func appointment() -> CareEntry? {
        let code =
            element.codeableConcept("serviceType") ?? element.codeableConcept("appointmentType")
            ?? element.codeableConcept("serviceCategory")
        return entry(
            .appointment, code: code, date: firstDate(element.fhirValue("start")),
            summary: element.fhirValue("description"), status: element.fhirValue("status"))
    }
}
