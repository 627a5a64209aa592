import CareRecords

/// One FHIR resource a simulated provider holds for a patient, with that provider's own resource id.
///
/// The same clinical fact held by several providers appears once in each provider's record, written identically in
/// the fields the merge compares but under each provider's own id, exactly as real systems would send it.
public enum SimulatedResource: Sendable, Hashable {
    case allergy(SimulatedAllergy)
    /// A medicine the provider records the patient as taking or having been given (GP repeats and acutes, the
    /// ambulance's drugs given, the care home's medication administration record).
    case medicationStatement(SimulatedMedication)
    /// A medicine the provider prescribed (the trust's discharge medicines).
    case medicationRequest(SimulatedMedication)
    case labResult(SimulatedLabResult)
    case labReport(SimulatedLabReport)
    case observation(SimulatedObservation)
    case encounter(SimulatedEncounter)
    case appointment(SimulatedAppointment)
    case document(SimulatedDocument)
    case carePlan(SimulatedCarePlan)
    case condition(SimulatedCondition)
    case immunisation(SimulatedImmunisation)

    /// The provider's own id for the resource (unique within the provider).
    public var id: String {
        switch self {
        case .allergy(let value): value.id
        case .medicationStatement(let value), .medicationRequest(let value): value.id
        case .labResult(let value): value.id
        case .labReport(let value): value.id
        case .observation(let value): value.id
        case .encounter(let value): value.id
        case .appointment(let value): value.id
        case .document(let value): value.id
        case .carePlan(let value): value.id
        case .condition(let value): value.id
        case .immunisation(let value): value.id
        }
    }

    /// The FHIR resource type it is written as.
    public var resourceType: String {
        switch self {
        case .allergy: "AllergyIntolerance"
        case .medicationStatement: "MedicationStatement"
        case .medicationRequest: "MedicationRequest"
        case .labResult, .observation: "Observation"
        case .labReport: "DiagnosticReport"
        case .encounter: "Encounter"
        case .appointment: "Appointment"
        case .document: "DocumentReference"
        case .carePlan: "CarePlan"
        case .condition: "Condition"
        case .immunisation: "Immunization"
        }
    }

    /// The category a decoder is expected to file it under.
    public var category: EntryCategory {
        switch self {
        case .allergy: .allergy
        case .medicationStatement, .medicationRequest: .medication
        case .labResult, .labReport: .testResult
        case .observation: .observation
        case .encounter: .encounter
        case .appointment: .appointment
        case .document: .document
        case .carePlan: .carePlan
        case .condition: .condition
        case .immunisation: .immunisation
        }
    }
}

public struct SimulatedAllergy: Sendable, Hashable {
    public var id: String
    public var substance: Coding
    /// `medication`, `food`, `environment` or `biologic`.
    public var category: String
    /// `low`, `high` or `unable-to-assess`.
    public var criticality: String
    public var reaction: Coding
    /// `mild`, `moderate` or `severe`.
    public var severity: String
    public var recordedDate: String
}

public struct SimulatedMedication: Sendable, Hashable {
    public var id: String
    public var medicine: Coding
    /// The dose instruction as the prescriber wrote it; what the merge compares.
    public var dosageText: String
    /// `active` for every MedicationStatement: the official R4 XSD types MedicationStatement.status with
    /// Medication's value set (active | inactive | entered-in-error), so `completed` would not validate; a finished
    /// course is told by `endDate` instead.
    public var status: String
    /// When it started, was given, or (for a request) was authored: a FHIR dateTime.
    public var date: String
    /// For a GP statement: `repeat` or `acute`; for the trust: `discharge`; ambulance: `administered`;
    /// care home: `mar`.
    public var prescribingType: String
    public var prescriber: String
    /// When a finished course ended (sent as `effectivePeriod.end`); nil while it continues.
    public var endDate: String? = nil
    /// The encounter it was given in (an ambulance incident), if any.
    public var encounterID: String? = nil
    /// When doses were given, for a medication administration record (care home): FHIR dateTimes, oldest first.
    public var administrations: [String] = []
}

public struct SimulatedLabResult: Sendable, Hashable {
    public var id: String
    public var test: Coding
    /// Decimal text as the lab reported it.
    public var value: String
    /// UCUM unit code (also the human-readable unit).
    public var unit: String
    public var effectiveDateTime: String
    public var issued: String
    /// The lab accession identifier shared by every provider that holds this result.
    public var accession: EntryIdentifier
    public var referenceLow: String?
    public var referenceHigh: String?
    public var performer: String
}

public struct SimulatedLabReport: Sendable, Hashable {
    public var id: String
    /// What the report covers (the whole order, not one test).
    public var code: Coding
    public var identifier: EntryIdentifier
    public var effectiveDateTime: String
    public var issued: String
    /// Ids of the provider's `labResult` resources it groups.
    public var resultIDs: [String]
    public var conclusion: String
    public var performer: String
}

public struct SimulatedObservation: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case quantity(value: String, unit: String)
        case integer(Int)
        case text(String)
    }

    public var id: String
    public var code: Coding
    /// `http://terminology.hl7.org/CodeSystem/observation-category` code: `vital-signs`, `survey`, `procedure` …
    public var category: String
    public var value: Value
    /// When it was measured; for a summary over a period (a monitoring episode), the end of that period.
    public var effectiveDateTime: String
    public var performer: String
    /// For a summary over a period, the period's start.
    public var effectiveStart: String? = nil
    /// The device that measured it (a cardiac monitor), if any.
    public var device: String? = nil
    /// For a summary over a period, the lowest and highest values seen, in the value's unit (a heart-rate trend's
    /// minimum and maximum; the value is then the mean).
    public var lowest: String? = nil
    public var highest: String? = nil
    /// The encounter it was taken in (an ambulance incident), if any.
    public var encounterID: String? = nil
}

public struct SimulatedEncounter: Sendable, Hashable {
    public var id: String
    public var type: Coding
    /// HL7 v3 ActCode: `AMB`, `IMP`, `EMER`, `HH`, `VR`.
    public var classCode: String
    public var classDisplay: String
    public var status: String
    public var start: String
    public var end: String?
    public var reason: Coding?
    public var serviceProvider: String
    /// How it ended, in words: an ambulance incident's conveyance, an NHS 111 call's disposition.
    public var outcome: String? = nil
}

public struct SimulatedAppointment: Sendable, Hashable {
    public var id: String
    public var serviceType: Coding
    /// `booked`, `fulfilled`, `noshow`, `cancelled`.
    public var status: String
    public var description: String
    public var start: String
    public var end: String
    public var minutes: Int
    public var practitioner: String
}

public struct SimulatedDocument: Sendable, Hashable {
    public var id: String
    /// An identifier shared by every copy of the same document (e.g. a report copied to the referrer).
    public var masterIdentifier: EntryIdentifier?
    public var type: Coding
    public var date: String
    public var description: String
    public var author: String
    public var title: String
    /// The letter itself, as plain text (sent base64-encoded in a FHIR attachment).
    public var content: String
    /// The encounter the document belongs to, as its author recorded it, if any (a CDA document's
    /// `encompassingEncounter`).
    public var encounter: SimulatedEncounter?
    /// The narrative sections of a structured document (CDA), in order; empty for a plain-text document.
    public var sections: [SimulatedDocumentSection] = []
    /// Facts a structured document also carries as coded entries (a discharge summary's medicines, allergies and
    /// problems). Each keeps the id of the author's own record of it, and is a fact of the provider serving the
    /// document just as a top-level resource is.
    public var medications: [SimulatedMedication] = []
    public var allergies: [SimulatedAllergy] = []
    public var problems: [SimulatedCondition] = []

    /// The id of the encounter the document belongs to, if any.
    public var encounterID: String? { encounter?.id }
}

/// One narrative section of a structured document: what a reader sees under one heading.
public struct SimulatedDocumentSection: Sendable, Hashable {
    /// The section's LOINC code, where a standard one fits.
    public var code: Coding?
    public var title: String
    public var paragraphs: [String]
}

public struct SimulatedCarePlan: Sendable, Hashable {
    public var id: String
    public var category: Coding
    public var title: String
    public var description: String
    public var status: String
    public var created: String
    public var author: String
    public var activities: [String]
}

public struct SimulatedCondition: Sendable, Hashable {
    public var id: String
    public var code: Coding
    /// `active`, `remission`, `resolved`.
    public var clinicalStatus: String
    public var onsetDate: String
    public var recordedDate: String
}

public struct SimulatedImmunisation: Sendable, Hashable {
    public var id: String
    public var vaccine: Coding
    public var date: String
    public var lotNumber: String
    public var performer: String
}
