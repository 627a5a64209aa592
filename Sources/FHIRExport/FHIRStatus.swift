import CareRecords

/// Each resource's required status value set (FHIR R4), and how a provider's free-text status maps into it:
/// the text itself when it is one of the codes (case, spaces and underscores aside), else a known synonym,
/// else the resource's default.
struct FHIRStatus {
    let codes: Set<String>
    let synonyms: [String: String]
    let fallback: String

    func map(_ text: String?) -> String {
        guard let key = text.map(CareEntry.statusCode) else { return fallback }
        if codes.contains(key) { return key }
        return synonyms[key] ?? fallback
    }

    /// True when the provider says the fact was recorded in error, which several resources express outside
    /// their status (a verification status instead of a clinical status).
    static func isEnteredInError(_ text: String?) -> Bool {
        text.map(CareEntry.statusCode) == enteredInError
    }

    static let enteredInError = "entered-in-error"

    /// `Appointment.status`.
    static let appointment = FHIRStatus(
        codes: ["proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error",
                "checked-in", "waitlist"],
        synonyms: ["canceled": "cancelled", "attended": "fulfilled", "completed": "fulfilled", "finished": "fulfilled",
                   "dna": "noshow", "did-not-attend": "noshow", "no-show": "noshow", "scheduled": "booked",
                   "confirmed": "booked", "checkedin": "checked-in"],
        fallback: "booked")

    /// `Encounter.status`.
    static let encounter = FHIRStatus(
        codes: ["planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error",
                "unknown"],
        synonyms: ["completed": "finished", "complete": "finished", "fulfilled": "finished", "discharged": "finished",
                   "attended": "finished", "closed": "finished", "active": "in-progress", "open": "in-progress",
                   "inprogress": "in-progress", "canceled": "cancelled", "booked": "planned", "scheduled": "planned"],
        fallback: "unknown")

    /// `MedicationStatement.status` (medication-statement-status; the R4 XSD wrongly enumerates Medication's
    /// status instead — this follows the specification, which clients validate against).
    static let medicationStatement = FHIRStatus(
        codes: ["active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"],
        synonyms: ["current": "active", "inactive": "completed", "complete": "completed", "finished": "completed",
                   "ended": "completed", "discontinued": "stopped", "cancelled": "stopped", "canceled": "stopped",
                   "suspended": "on-hold", "held": "on-hold", "planned": "intended"],
        fallback: "unknown")

    /// `AllergyIntolerance.clinicalStatus` (allergyintolerance-clinical). An allergy on a record with no status
    /// is taken as active, as ait-2 requires one.
    static let allergyClinical = FHIRStatus(
        codes: ["active", "inactive", "resolved"],
        synonyms: ["completed": "resolved", "complete": "resolved", "suspended": "inactive"],
        fallback: "active")

    /// `Condition.clinicalStatus` (condition-clinical).
    static let conditionClinical = FHIRStatus(
        codes: ["active", "recurrence", "relapse", "inactive", "remission", "resolved"],
        synonyms: ["completed": "resolved", "complete": "resolved", "suspended": "inactive"],
        fallback: "active")

    /// `Observation.status`.
    static let observation = FHIRStatus(
        codes: ["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"],
        synonyms: ["completed": "final", "complete": "final", "verified": "final", "reported": "final",
                   "available": "final", "canceled": "cancelled", "pending": "registered"],
        fallback: "final")

    /// `DiagnosticReport.status`.
    static let diagnosticReport = FHIRStatus(
        codes: ["registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled",
                "entered-in-error", "unknown"],
        synonyms: ["completed": "final", "complete": "final", "verified": "final", "reported": "final",
                   "available": "final", "canceled": "cancelled", "pending": "registered"],
        fallback: "final")

    /// `DocumentReference.status`.
    static let documentReference = FHIRStatus(
        codes: ["current", "superseded", "entered-in-error"],
        synonyms: ["final": "current", "completed": "current", "active": "current", "replaced": "superseded"],
        fallback: "current")

    /// `CarePlan.status` (request-status).
    static let carePlan = FHIRStatus(
        codes: ["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"],
        synonyms: ["cancelled": "revoked", "canceled": "revoked", "stopped": "revoked", "suspended": "on-hold",
                   "finished": "completed", "complete": "completed", "resolved": "completed", "current": "active"],
        fallback: "unknown")

    /// `Immunization.status`.
    static let immunization = FHIRStatus(
        codes: ["completed", "entered-in-error", "not-done"],
        synonyms: ["given": "completed", "administered": "completed", "done": "completed", "complete": "completed",
                   "not-given": "not-done", "declined": "not-done"],
        fallback: "completed")
}
