/// A coded concept as a provider sent it (SNOMED CT, dm+d, LOINC, or a local code system).
public struct Coding: Hashable, Sendable, Codable {
    public var system: String?
    public var code: String?
    public var display: String?

    public init(system: String? = nil, code: String? = nil, display: String? = nil) {
        self.system = system
        self.code = code
        self.display = display
    }

    /// Well-known code systems, as FHIR spells them.
    public enum System {
        public static let snomedCT = "http://snomed.info/sct"
        public static let dmd = "https://dmd.nhs.uk"
        public static let loinc = "http://loinc.org"
    }
}

/// A measured value, kept as the provider wrote it: `value` is the decimal text, so that nothing is lost
/// to floating point and two providers' `5.0` and `5.00` can still be compared numerically by the merge.
public struct Quantity: Hashable, Sendable, Codable {
    public var value: String
    public var unit: String?

    public init(value: String, unit: String? = nil) {
        self.value = value
        self.unit = unit
    }
}

/// An identifier a provider attached to a fact that other providers may share: an order or accession number,
/// a document id. Two entries with the same identifier are the same fact.
public struct EntryIdentifier: Hashable, Sendable, Codable {
    public var system: String
    public var value: String

    public init(system: String, value: String) {
        self.system = system
        self.value = value
    }
}

/// Where a fact came from: the provider and that provider's own id for it.
public struct SourceReference: Hashable, Sendable, Codable, Comparable {
    public var provider: ProviderID
    public var id: String

    public init(provider: ProviderID, id: String) {
        self.provider = provider
        self.id = id
    }

    public static func < (lhs: SourceReference, rhs: SourceReference) -> Bool {
        (lhs.provider, lhs.id) < (rhs.provider, rhs.id)
    }
}

/// One fact from one provider, normalised. Decoders produce these; the merge collapses them into `MergedEntry`.
public struct CareEntry: Hashable, Sendable, Codable {
    public var category: EntryCategory
    /// The main coded concept: the medicine, the substance, the test, the condition, the document type.
    public var code: Coding?
    /// When it happened or was recorded, as an ISO 8601 date or date-time (possibly partial, e.g. `2024-03`).
    public var date: ClinicalDate?
    /// One human-readable line a clinician can scan.
    public var summary: String
    /// The provider's status for it (`active`, `completed`, `booked`, `final` …), if any, as a code
    /// (`statusCode`): whatever the format, the merge and the summaries compare statuses as codes.
    public var status: String?

    /// How a status by which a source withdraws its own statement, rather than describing the patient, reads
    /// to a person: recorded by mistake (`entered-in-error`, FHIR), found untrue (`refuted`, a FHIR verification
    /// status), or a document taken back (`nullified`, CDA). Nil for every other status. The one list of them:
    /// `standing` and the decoders' summaries both read it. A `switch`, not a set: the merge asks for every entry.
    public static func withdrawal(_ status: String?) -> String? {
        switch status {
        case "entered-in-error": "Entered in error"
        case "refuted": "Refuted"
        case "nullified": "Nullified"
        default: nil
        }
    }

    /// A status as a code: lower case, with runs of spaces, tabs and underscores as one hyphen (`Entered in error`
    /// → `entered-in-error`, `Active` → `active`), so that a bespoke system's words compare with FHIR's and CDA's
    /// codes. A status already written so is returned as it is, without a copy.
    public static func statusCode(_ text: String) -> String {
        let isCode = text.utf8.allSatisfy { byte in
            !(0x41...0x5A).contains(byte) && byte != 0x20 && byte != 0x5F && byte != 0x09 && byte < 0x80
        }
        if isCode { return text }
        return text.lowercased().split(whereSeparator: { $0 == " " || $0 == "_" || $0 == "\t" }).joined(separator: "-")
    }

    /// What the statement asserts of the patient: that something is or was so, that it was not done (a vaccine
    /// not given, FHIR's `not-done`), or nothing any more (withdrawn). Statements of different standing are never
    /// the same fact.
    public enum Standing: UInt8, Sendable, Hashable {
        case asserted, notDone, withdrawn
    }

    public var standing: Standing {
        if Self.withdrawal(status) != nil { return .withdrawn }
        return status == "not-done" ? .notDone : .asserted
    }
    /// A result's value (test results, observations).
    public var value: Quantity?
    /// A medicine's dose instruction as text (`500 mg four times a day`).
    public var dose: String?
    /// A medicine given once, at `date` (FHIR MedicationAdministration; an ambulance crew's drugs given), rather
    /// than one the patient is on. Two doses of paracetamol given hours apart are two facts; the same medicine
    /// on two providers' lists is one.
    public var administered: Bool
    /// Identifiers other providers may share for the same fact.
    public var identifiers: [EntryIdentifier]
    /// Where it came from.
    public var source: SourceReference

    public init(
        category: EntryCategory, code: Coding? = nil, date: ClinicalDate? = nil, summary: String,
        status: String? = nil, value: Quantity? = nil, dose: String? = nil, administered: Bool = false,
        identifiers: [EntryIdentifier] = [], source: SourceReference
    ) {
        self.administered = administered
        self.category = category
        self.code = code
        self.date = date
        self.summary = summary
        self.status = status.map(Self.statusCode)
        self.value = value
        self.dose = dose
        self.identifiers = identifiers
        self.source = source
    }
}
