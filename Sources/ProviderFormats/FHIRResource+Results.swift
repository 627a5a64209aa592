import CareRecords
import XMLSupport

/// Observation → `test-result` (laboratory) or `observation`; DiagnosticReport → `test-result`.
extension FHIRResource {
    func observation() -> CareEntry? {
        let code = element.codeableConcept("code")
        let category: EntryCategory = isLaboratory ? .testResult : .observation
        let value =
            element.child("valueQuantity")?.quantity
            ?? element.fhirValue("valueInteger").map { Quantity(value: $0) }
        let result = Self.valueText(of: element) ?? componentsText ?? absentReasonText
        return entry(
            category, code: code,
            date: firstDate(
                element.fhirValue("effectiveDateTime"), element.fhirValue(at: "effectivePeriod", "start"),
                element.fhirValue("effectiveInstant"), element.fhirValue("issued")),
            summary: result.map { "\(code?.display ?? type): \($0)" },
            status: element.fhirValue("status"), value: value)
    }

    func diagnosticReport() -> CareEntry? {
        let code = element.codeableConcept("code")
        return entry(
            .testResult, code: code,
            date: firstDate(
                element.fhirValue("effectiveDateTime"), element.fhirValue(at: "effectivePeriod", "start"),
                element.fhirValue("issued")),
            summary: summary(code?.display, details: element.fhirValue("conclusion")),
            status: element.fhirValue("status"))
    }

    private static let observationCategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"

    /// Laboratory observations are test results; vital signs, social history, exam findings are observations.
    private var isLaboratory: Bool {
        element.children.contains { category in
            category.isNamed("category")
                && category.children.contains { coding in
                    coding.isNamed("coding") && coding.fhirValue("code") == "laboratory"
                        && (coding.fhirValue("system") ?? Self.observationCategorySystem)
                            == Self.observationCategorySystem
                }
        }
    }

    /// The observation's or a component's `value[x]` as display text, for the types a clinician reads.
    private static func valueText(of element: XMLElement) -> String? {
        if let quantity = element.child("valueQuantity")?.quantity {
            return [quantity.value, quantity.unit].compactMap { $0 }.joined(separator: " ")
        }
        if let concept = element.codeableConcept("valueCodeableConcept") { return concept.display ?? concept.code }
        if let boolean = element.fhirValue("valueBoolean") { return boolean == "true" ? "yes" : "no" }
        return element.fhirValue("valueString") ?? element.fhirValue("valueInteger")
    }

    /// Component values, e.g. blood pressure: "Systolic arterial pressure 142 mm[Hg], Diastolic … 94 mm[Hg]".
    private var componentsText: String? {
        let parts = element.children("component").compactMap { component -> String? in
            guard let value = Self.valueText(of: component) else { return nil }
            guard let name = component.codeableConcept("code")?.display else { return value }
            return "\(name) \(value)"
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// Why there is no value (e.g. "Specimen unsatisfactory for evaluation"), which matters as much as one.
    private var absentReasonText: String? {
        element.codeableConcept("dataAbsentReason").flatMap { $0.display ?? $0.code }.map { "no value (\($0))" }
    }
}
