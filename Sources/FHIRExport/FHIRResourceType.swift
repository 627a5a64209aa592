import CareRecords

/// The FHIR R4 resource types CareGate exports.
public enum FHIRResourceType: String, Sendable, CaseIterable {
    case patient = "Patient"
    case allergyIntolerance = "AllergyIntolerance"
    case medicationStatement = "MedicationStatement"
    case observation = "Observation"
    case diagnosticReport = "DiagnosticReport"
    case encounter = "Encounter"
    case appointment = "Appointment"
    case documentReference = "DocumentReference"
    case carePlan = "CarePlan"
    case condition = "Condition"
    case immunization = "Immunization"

    /// The clinical types (all but Patient), in the order $everything lists them.
    public static var clinical: [FHIRResourceType] { allCases.filter { $0 != .patient } }

    /// The type a merged entry becomes: appointment→Appointment, encounter→Encounter, medication→MedicationStatement,
    /// allergy→AllergyIntolerance, test-result→Observation (category laboratory) when it has a value, else
    /// DiagnosticReport, observation→Observation (category vital-signs), document→DocumentReference,
    /// care-plan→CarePlan, condition→Condition, immunisation→Immunization.
    public static func of(_ entry: MergedEntry) -> FHIRResourceType {
        switch entry.category {
        case .appointment: .appointment
        case .encounter: .encounter
        case .medication: .medicationStatement
        case .allergy: .allergyIntolerance
        case .testResult: entry.value == nil ? .diagnosticReport : .observation
        case .observation: .observation
        case .document: .documentReference
        case .carePlan: .carePlan
        case .condition: .condition
        case .immunisation: .immunization
        }
    }

    /// The categories whose entries can become this type (to narrow a provider query by `_type`).
    public var categories: [EntryCategory] {
        switch self {
        case .patient: []
        case .allergyIntolerance: [.allergy]
        case .medicationStatement: [.medication]
        case .observation: [.testResult, .observation]
        case .diagnosticReport: [.testResult]
        case .encounter: [.encounter]
        case .appointment: [.appointment]
        case .documentReference: [.document]
        case .carePlan: [.carePlan]
        case .condition: [.condition]
        case .immunization: [.immunisation]
        }
    }
}
