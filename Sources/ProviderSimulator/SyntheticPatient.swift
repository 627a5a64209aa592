import CareRecords

/// One synthetic person and everything each simulated provider holds about them.
///
/// Patient data, though invented: log it only at debug level or below, like real data, so that logging habits formed
/// against the simulator are the right ones.
public struct SyntheticPatient: Sendable, Hashable {
    /// Position in the population; the demo patient is 0.
    public var index: Int
    public var nhsNumber: NHSNumber
    public var givenName: String
    public var familyName: String
    /// `YYYY-MM-DD`.
    public var birthDate: String
    /// FHIR administrative gender: `female` or `male`.
    public var gender: String
    /// Each provider's resources for this patient. A provider absent from the map does not know the patient.
    public var records: [ProviderID: [SimulatedResource]]
    /// The facts held by more than one provider, as the merge should find them.
    public var sharedFacts: [SharedFact]

    /// The providers holding a record for this patient, in the standard order.
    public var knownProviders: [ProviderID] {
        SimulatedProviderID.all.filter { records[$0] != nil }
            + records.keys.filter { !SimulatedProviderID.all.contains($0) }.sorted()
    }

    public func isKnown(to provider: ProviderID) -> Bool { records[provider] != nil }

    /// The provider's resources for this patient, empty when it does not know them.
    public func resources(at provider: ProviderID) -> [SimulatedResource] { records[provider] ?? [] }

    /// True when some medicine is recorded by two providers with different dose instructions.
    public var hasDoseConflict: Bool {
        sharedFacts.contains { $0.agreement == .conflicting(field: "dose") }
    }
}

/// A fact that several providers hold, as the gateway's merge should see it: the same coded concept, and either
/// the same clinically relevant values (`identical`, to be shown once with every source) or a disagreement on one
/// of them (`conflicting`, to be kept apart and flagged).
public struct SharedFact: Sendable, Hashable, CustomStringConvertible {
    public enum Agreement: Sendable, Hashable {
        case identical
        /// The field that differs: `dose` for medicines.
        case conflicting(field: String)
    }

    public var category: EntryCategory
    public var code: Coding
    /// The providers holding it, in the standard order.
    public var providers: [ProviderID]
    public var agreement: Agreement
    /// An identifier every copy carries (a lab accession, a document id), if any.
    public var identifier: EntryIdentifier?
    /// The date the copies share, when the match depends on it.
    public var date: String?
    /// The clinically relevant value per provider: the dose text for medicines, `value unit` for results.
    public var values: [ProviderID: String]
    /// Each provider's own resource id for its copy.
    public var resourceIDs: [ProviderID: String]

    public var description: String {
        let who = providers.map(\.rawValue).joined(separator: "+")
        let what = code.display ?? code.code ?? "?"
        switch agreement {
        case .identical: return "\(category.rawValue) \(what) at \(who)"
        case .conflicting(let field): return "\(category.rawValue) \(what) at \(who), \(field) differs"
        }
    }
}
