import CareRecords

extension FHIRBundleWriter {
    static let observationCategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"

    /// Observation (laboratory): id, identifier, basedOn, partOf, status, category, code, subject, focus,
    /// encounter, effective[x], issued, performer, value[x], dataAbsentReason, interpretation, note, bodySite,
    /// method, specimen, device, referenceRange, ….
    static func writeLabResult(_ xml: inout FHIRXMLBuffer, _ result: SimulatedLabResult, context: ResourceContext) {
        xml.resourceID(result.id)
        xml.identifier(result.accession)
        xml.value("status", "final")
        xml.codeableConcept("category", system: observationCategorySystem, code: "laboratory", display: "Laboratory")
        xml.codeableConcept("code", result.test)
        xml.reference("subject", context.patientReference)
        xml.value("effectiveDateTime", result.effectiveDateTime)
        xml.value("issued", result.issued)
        xml.reference("performer", display: result.performer)
        xml.quantity("valueQuantity", value: result.value, unit: result.unit)
        if let flag = interpretation(result) {
            xml.codeableConcept(
                "interpretation", system: "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                code: flag.code, display: flag.display)
        }
        if result.referenceLow != nil || result.referenceHigh != nil {
            xml.element("referenceRange") {
                if let low = result.referenceLow { $0.quantity("low", value: low, unit: result.unit) }
                if let high = result.referenceHigh { $0.quantity("high", value: high, unit: result.unit) }
            }
        }
    }

    private static func interpretation(_ result: SimulatedLabResult) -> (code: String, display: String)? {
        guard let value = Double(result.value) else { return nil }
        if let low = result.referenceLow.flatMap(Double.init), value < low { return ("L", "Low") }
        if let high = result.referenceHigh.flatMap(Double.init), value > high { return ("H", "High") }
        return ("N", "Normal")
    }

    /// DiagnosticReport: id, identifier, basedOn, status, category, code, subject, encounter, effective[x], issued,
    /// performer, resultsInterpreter, specimen, result, imagingStudy, media, conclusion, ….
    static func writeLabReport(_ xml: inout FHIRXMLBuffer, _ report: SimulatedLabReport, context: ResourceContext) {
        xml.resourceID(report.id)
        xml.identifier(report.identifier)
        xml.value("status", "final")
        xml.codeableConcept(
            "category", system: "http://terminology.hl7.org/CodeSystem/v2-0074", code: "LAB", display: "Laboratory")
        xml.codeableConcept("code", report.code)
        xml.reference("subject", context.patientReference)
        xml.value("effectiveDateTime", report.effectiveDateTime)
        xml.value("issued", report.issued)
        xml.reference("performer", display: report.performer)
        for id in report.resultIDs {
            xml.reference("result", "Observation/\(id)")
        }
        xml.value("conclusion", report.conclusion)
    }

    /// Observation (vital signs, survey, device measurements), in the same order as `writeLabResult`.
    static func writeObservation(
        _ xml: inout FHIRXMLBuffer, _ observation: SimulatedObservation, context: ResourceContext
    ) {
        xml.resourceID(observation.id)
        xml.value("status", "final")
        xml.codeableConcept(
            "category", system: observationCategorySystem, code: observation.category,
            display: categoryDisplay(observation.category))
        xml.codeableConcept("code", observation.code)
        xml.reference("subject", context.patientReference)
        xml.value("effectiveDateTime", observation.effectiveDateTime)
        xml.reference("performer", display: observation.performer)
        switch observation.value {
        case .quantity(let value, let unit): xml.quantity("valueQuantity", value: value, unit: unit)
        case .integer(let value): xml.value("valueInteger", String(value))
        case .text(let value): xml.value("valueString", value)
        }
    }

    private static func categoryDisplay(_ code: String) -> String {
        switch code {
        case "vital-signs": "Vital Signs"
        case "laboratory": "Laboratory"
        case "survey": "Survey"
        case "procedure": "Procedure"
        default: code
        }
    }
}
