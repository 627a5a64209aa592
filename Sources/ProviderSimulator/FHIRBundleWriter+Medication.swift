import CareRecords

extension FHIRBundleWriter {
    static let oralRoute = Coding(system: Coding.System.snomedCT, code: "26643006", display: "Oral route")

    /// MedicationStatement: id, identifier, basedOn, partOf, status, statusReason, category,
    /// medication[x], subject, context, effective[x], dateAsserted, informationSource, derivedFrom, reasonCode,
    /// reasonReference, note, dosage.
    static func writeMedicationStatement(
        _ xml: inout FHIRXMLBuffer, _ medication: SimulatedMedication, context: ResourceContext
    ) {
        xml.resourceID(medication.id)
        xml.value("status", medication.status)
        let category: (code: String, display: String) =
            switch medication.prescribingType {
            case "administered": ("outpatient", "Outpatient")
            case "mar": ("inpatient", "Inpatient")
            default: ("community", "Community")
            }
        xml.codeableConcept(
            "category", system: "http://terminology.hl7.org/CodeSystem/medication-statement-category",
            code: category.code, display: category.display)
        xml.codeableConcept("medicationCodeableConcept", medication.medicine)
        xml.reference("subject", context.patientReference)
        if let end = medication.endDate {
            xml.period("effectivePeriod", start: medication.date, end: end)
        } else {
            xml.value("effectiveDateTime", medication.date)
        }
        xml.value("dateAsserted", medication.date)
        xml.reference("informationSource", display: medication.prescriber)
        let note: String? =
            switch medication.prescribingType {
            case "repeat": "Repeat prescription"
            case "acute": "Acute prescription"
            case "mar": "Medication administration record"
            case "administered": "Administered by ambulance crew"
            default: nil
            }
        if let note { xml.element("note") { $0.value("text", note) } }
        writeDosage(&xml, "dosage", medication.dosageText)
    }

    /// MedicationRequest: id, identifier, status, statusReason, intent, category, priority, doNotPerform,
    /// reported[x], medication[x], subject, encounter, supportingInformation, authoredOn, requester, …,
    /// courseOfTherapyType, insurance, note, dosageInstruction, dispenseRequest, ….
    static func writeMedicationRequest(
        _ xml: inout FHIRXMLBuffer, _ medication: SimulatedMedication, context: ResourceContext
    ) {
        xml.resourceID(medication.id)
        xml.value("status", medication.status)
        xml.value("intent", "order")
        xml.codeableConcept(
            "category", system: "http://terminology.hl7.org/CodeSystem/medicationrequest-category", code: "discharge",
            display: "Discharge")
        xml.codeableConcept("medicationCodeableConcept", medication.medicine)
        xml.reference("subject", context.patientReference)
        xml.value("authoredOn", medication.date)
        xml.reference("requester", display: medication.prescriber)
        xml.codeableConcept(
            "courseOfTherapyType", system: "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
            code: "continuous", display: "Continuous long term therapy")
        writeDosage(&xml, "dosageInstruction", medication.dosageText)
    }

    /// Dosage: sequence, text, additionalInstruction, patientInstruction, timing, asNeeded[x], site, route, ….
    private static func writeDosage(_ xml: inout FHIRXMLBuffer, _ name: String, _ text: String) {
        xml.element(name) {
            $0.value("text", text)
            $0.codeableConcept("route", oralRoute)
        }
    }
}
