import CareRecords

/// Writes each provider's record for one patient from the patient's profile. Facts several providers hold come
/// from the profile, so every copy says the same thing; only each provider's own resource ids, authors and
/// recording dates differ, as they would between real systems.
struct PatientHistoryWriter {
    let profile: PatientProfile
    var rng: SplitMix64
    private(set) var records: [ProviderID: [SimulatedResource]] = [:]
    private var counters: [ProviderID: Int] = [:]

    init(profile: PatientProfile, rng: SplitMix64) {
        self.profile = profile
        self.rng = rng
    }

    static let labAccessionSystem = "https://fhir.caregate.example/Id/lab-accession"
    static let labReportSystem = "https://fhir.caregate.example/Id/lab-report"
    static let documentSystem = "https://fhir.caregate.example/Id/document"

    mutating func write() -> [ProviderID: [SimulatedResource]] {
        for provider in SimulatedProviderID.all where profile.knows(provider) {
            records[provider] = []
        }
        if profile.knows(SimulatedProviderID.mhTrust) { writeMentalHealthTrust() }
        if profile.knows(SimulatedProviderID.gp) { writeGP() }
        if profile.knows(SimulatedProviderID.ambulance) { writeAmbulance() }
        if profile.knows(SimulatedProviderID.nhs111) { writeNHS111() }
        if profile.knows(SimulatedProviderID.cardiac) { writeCardiac() }
        if profile.knows(SimulatedProviderID.careHome) { writeCareHome() }
        return records
    }

    /// A resource id of the provider's own style, unique within the provider: `mht-med-0007-3`.
    mutating func newID(_ provider: ProviderID, _ kind: String) -> String {
        let number = counters[provider, default: 0] + 1
        counters[provider] = number
        return "\(Self.prefix(provider))-\(kind)-\(SimulatedDay.pad(profile.index, 4))-\(number)"
    }

    mutating func add(_ resource: SimulatedResource, to provider: ProviderID) {
        records[provider, default: []].append(resource)
    }

    /// What has been written for `provider` so far.
    func recorded(at provider: ProviderID) -> [SimulatedResource] {
        records[provider] ?? []
    }

    static func prefix(_ provider: ProviderID) -> String {
        switch provider {
        case SimulatedProviderID.mhTrust, SimulatedProviderID.mhTrustDocuments: "mht"
        case SimulatedProviderID.gp: "gp"
        case SimulatedProviderID.ambulance: "amb"
        case SimulatedProviderID.nhs111: "n111"
        case SimulatedProviderID.cardiac: "car"
        case SimulatedProviderID.careHome: "chm"
        default: provider.rawValue
        }
    }

    // MARK: Facts several providers write the same way

    mutating func writeConditions(to provider: ProviderID, onlyTrustHeld: Bool) {
        for condition in profile.conditions where !onlyTrustHeld || condition.heldByTrust {
            let recorded = condition.onset.adding(days: rng.int(in: 0...40))
            add(
                .condition(
                    SimulatedCondition(
                        id: newID(provider, "cond"), code: condition.entry.coding, clinicalStatus: "active",
                        onsetDate: condition.onset.text, recordedDate: min(recorded, SimulatedDay.reference).text)),
                to: provider)
        }
    }

    mutating func writeAllergies(to provider: ProviderID, recordedAfter earliest: SimulatedDay) {
        for allergy in profile.allergies {
            let recorded = max(allergy.onset, earliest).adding(days: rng.int(in: 0...30))
            add(
                .allergy(
                    SimulatedAllergy(
                        id: newID(provider, "alg"), substance: allergy.entry.substance, category: allergy.entry.category,
                        criticality: allergy.severity == "severe" ? "high" : "low", reaction: allergy.reaction,
                        severity: allergy.severity, recordedDate: min(recorded, SimulatedDay.reference).text)),
                to: provider)
        }
    }

    /// The lab results of one order, as `provider` files them; returns their ids for a report to reference.
    mutating func writeLabResults(_ order: PatientProfile.LabOrder, to provider: ProviderID) -> [String] {
        let effective = order.day.at(hour: order.hour, minute: order.minute)
        let issued = order.day.at(hour: min(order.hour + 5, 23), minute: order.minute)
        var ids: [String] = []
        for (test, value) in order.results {
            let id = newID(provider, "obs")
            ids.append(id)
            let range = test.referenceRange
            add(
                .labResult(
                    SimulatedLabResult(
                        id: id, test: test.coding, value: value, unit: test.unit, effectiveDateTime: effective,
                        issued: issued,
                        accession: EntryIdentifier(
                            system: Self.labAccessionSystem, value: "\(order.accessionStem)-\(test.tag)"),
                        referenceLow: range.low, referenceHigh: range.high,
                        performer: order.byTrust ? "Thameside Pathology" : "South Thames Community Laboratory")),
                to: provider)
        }
        return ids
    }
}
