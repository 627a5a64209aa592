import CareRecords
import XMLSupport

/// One resource being decoded: its element, where it came from, and what its references can reach.
struct FHIRResource {
    let element: XMLElement
    let source: SourceReference
    let index: FHIRReferenceIndex

    /// The resource type, e.g. `Observation`.
    var type: String { element.name }

    /// What one resource decodes to.
    enum Reading {
        case entry(CareEntry)
        case patient(PatientDemographics)
        /// A supported resource from which nothing useful could be read: something was left out.
        case unreadable
        /// Nothing to show and nothing lost: a resource type the gateway does not show (Practitioner,
        /// OperationOutcome …), or a Patient that carries no demographics.
        case ignored
    }

    /// The one place that says which resource types are read and as what.
    func read() -> Reading {
        let entry: CareEntry?
        switch type {
        case "AllergyIntolerance": entry = allergy()
        case "MedicationStatement": entry = medicationStatement()
        case "MedicationRequest": entry = medicationRequest()
        case "MedicationAdministration": entry = medicationAdministration()
        case "MedicationDispense": entry = medicationDispense()
        case "Observation": entry = observation()
        case "DiagnosticReport": entry = diagnosticReport()
        case "Encounter": entry = encounter()
        case "Appointment": entry = appointment()
        case "DocumentReference": entry = documentReference()
        case "CarePlan": entry = carePlan()
        case "Condition": entry = condition()
        case "Immunization": entry = immunization()
        case "Patient": return demographics().map(Reading.patient) ?? .ignored
        default: return .ignored
        }
        return entry.map(Reading.entry) ?? .unreadable
    }

    /// The target of the Reference child with this name (`medicationReference`), when it is in the document.
    func resolve(_ referenceName: String) -> XMLElement? {
        guard let reference = element.child(referenceName)?.fhirValue("reference") else { return nil }
        return index.resolve(reference, from: element)
    }

    /// Assembles an entry with this resource's provenance and identifiers, or nil when nothing was read.
    ///
    /// `summary` is nil when the resource offers nothing beyond its code; the summary then falls back to the
    /// code's display, else the resource type, so every entry has a line a clinician can scan. An entry with
    /// no code, date, value, dose or summary text would say only "there is a resource", so it is unreadable.
    func entry(
        _ category: EntryCategory, code: Coding?, date: ClinicalDate?, summary: String?, status: String?,
        value: Quantity? = nil, dose: String? = nil, administered: Bool = false, identifiers: [EntryIdentifier] = []
    ) -> CareEntry? {
        guard code != nil || date != nil || summary != nil || value != nil || dose != nil else { return nil }
        return CareEntry(
            category: category, code: code, date: date,
            summary: EntrySummary.marking(summary ?? code?.display ?? type, status: status),
            status: status, value: value, dose: dose, administered: administered,
            identifiers: identifiers.isEmpty ? element.identifiers : identifiers + element.identifiers,
            source: source)
    }

    /// "Headline — detail; detail", or nil when there is neither. Without a headline the resource type
    /// stands in, so details are never shown without saying what they are about.
    func summary(_ headline: String?, details first: String?, _ second: String? = nil) -> String? {
        guard first != nil || second != nil else { return headline }
        return EntrySummary.text(headline ?? type, first, second)
    }
}

extension Collection where Element: Hashable {
    /// The elements in order, without repeats.
    func uniqued() -> [Element] {
        // Usually one or two (an entry's identifiers, an allergy's reactions): comparing each with those kept
        // costs less than hashing into a set, which only pays from a dozen or so.
        guard count > 8 else {
            var kept: [Element] = []
            for element in self where !kept.contains(element) { kept.append(element) }
            return kept
        }
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
