/// The URLs of CareGate's own FHIR output, for what FHIR has no element for: written by the exporter, and read
/// back by the FHIR decoder from another CareGate gateway's answer (federation), so both use these very strings.
public enum CareGateFHIRProfile {
    /// One per source of an entry: nested extensions `provider`, `id` and `summary`, that source's own line (all
    /// valueString).
    public static let sourceExtension = "https://caregate.example/fhir/StructureDefinition/source"
    /// On an entry that disagrees with others: nested `field` (valueString) and one `with` (valueString, the other
    /// resource's id) per other entry.
    public static let conflictExtension = "https://caregate.example/fhir/StructureDefinition/conflict"
    /// On a MedicationStatement that is a dose given once at its `effectiveDateTime` (`CareEntry.administered`):
    /// valueBoolean true. Not a MedicationAdministration, whose dosage must give a structured dose or rate (mad-1)
    /// where CareGate holds the dose only as text.
    public static let administeredExtension = "https://caregate.example/fhir/StructureDefinition/administered"
    /// On the issue of a provider-outcome OperationOutcome: nested `provider`, `kind` and `detail` (valueString).
    public static let providerOutcomeExtension = "https://caregate.example/fhir/StructureDefinition/provider-outcome"
    /// On a break-glass AuditEvent whose query has been reviewed, the latest review: nested `outcome` (valueCode:
    /// `appropriate`, `inappropriate`, `follow-up`), `reviewer` (valueReference, SDS user id), `reviewed`
    /// (valueDateTime) and `note` (valueString).
    public static let breakGlassReviewExtension = "https://caregate.example/fhir/StructureDefinition/break-glass-review"
    /// The code system of a provider's outcome (`timeout`, `error`, …) in a Bundle's notices.
    public static let providerStatusCodeSystem = "https://caregate.example/CodeSystem/provider-status"
}
