import CareRecords

/// The decisions about one patient that more than one provider's record depends on: who they are, what they
/// have, what they take, and which providers know them. Each provider's record is then written from the profile,
/// so a fact several providers hold is decided once and copied, never drawn twice.
struct PatientProfile {
    struct Condition {
        var entry: CatalogueCondition
        var onset: SimulatedDay
        /// Whether the trust records it (always for mental health; sometimes for physical comorbidities).
        var heldByTrust: Bool
    }

    struct Medicine {
        var entry: CatalogueMedicine
        var started: SimulatedDay
        /// The dose the GP (and so the care home) records: the usual dose, or the changed one for a near-match.
        var communityDose: String
        /// Prescribed on the trust's discharge letter (always with the usual dose).
        var onDischarge: Bool
    }

    struct Allergy {
        var entry: CatalogueAllergen
        var reaction: Coding
        var severity: String
        var onset: SimulatedDay
    }

    struct LabOrder {
        var day: SimulatedDay
        var hour: Int
        var minute: Int
        /// The accession number's stem, unique in the population: `LAB-251104-0071`.
        var accessionStem: String
        var results: [(test: LabTestKind, value: String)]
        /// Requested by the trust (which files a DiagnosticReport) rather than the GP.
        var byTrust: Bool
        var copiedToGP: Bool
    }

    var index: Int
    var isDemo: Bool
    var gender: String
    var givenName: String
    var familyName: String
    var birthDay: SimulatedDay
    var age: Int
    var nhsNumber: NHSNumber
    var known: Set<ProviderID>
    var conditions: [Condition]
    var medicines: [Medicine]
    var allergies: [Allergy]
    var labOrders: [LabOrder]
    /// The trust admission the discharge medicines come from, if any.
    var admission: (start: SimulatedDay, end: SimulatedDay)?
    var careHomeSince: SimulatedDay?
    /// The cardiac monitoring episode, if any, and whether its report was copied to the trust.
    var monitoring: (start: SimulatedDay, days: Int, copiedToTrust: Bool)?

    /// The trust's document feed knows exactly the patients the trust knows.
    func knows(_ provider: ProviderID) -> Bool {
        known.contains(provider == SimulatedProviderID.mhTrustDocuments ? SimulatedProviderID.mhTrust : provider)
    }

    func hasCondition(_ entry: CatalogueCondition) -> Bool {
        conditions.contains { $0.entry.coding == entry.coding }
    }

    func takes(_ medicine: CatalogueMedicine) -> Bool {
        medicines.contains { $0.entry.coding == medicine.coding }
    }

    var isAllergicToPenicillin: Bool {
        allergies.contains { $0.entry.substance == ClinicalCatalogue.penicillinAllergen.substance }
    }
}

extension PatientProfile {
    /// Draws a profile. The first patient is the demo patient: known to all six providers, with a discharge
    /// medicine shared unchanged by the trust and the GP, another whose dose the GP changed, a penicillin allergy
    /// recorded by three providers, shared blood tests and a cardiac report copied to the trust.
    static func draw(index: Int, nhsNumber: NHSNumber, using rng: inout SplitMix64) -> PatientProfile {
        let isDemo = index == 0
        let reference = SimulatedDay.reference
        let gender = isDemo ? "female" : (rng.chance(0.5) ? "female" : "male")
        let givenName =
            isDemo ? "Joyce" : rng.pick(gender == "female" ? SyntheticNames.femaleGiven : SyntheticNames.maleGiven)
        let familyName = isDemo ? "Okafor" : rng.pick(SyntheticNames.family)
        let age = isDemo ? 72 : (rng.chance(0.45) ? rng.int(in: 65...94) : rng.int(in: 19...64))
        let birthDay = reference.adding(days: -(age * 365 + age / 4 + rng.int(in: 1...360)))

        var conditions: [Condition] = []
        func add(_ entry: CatalogueCondition, trust: Bool) {
            guard !conditions.contains(where: { $0.entry.coding == entry.coding }) else { return }
            let yearsAgo = rng.int(in: 1...min(15, max(1, age - 18)))
            let onset = reference.adding(days: -(yearsAgo * 365 + rng.int(in: 0...300)))
            conditions.append(Condition(entry: entry, onset: onset, heldByTrust: trust))
        }
        if isDemo {
            add(ClinicalCatalogue.schizophrenia, trust: true)
            add(ClinicalCatalogue.type2Diabetes, trust: true)
            add(ClinicalCatalogue.atrialFibrillation, trust: true)
            add(ClinicalCatalogue.hypertension, trust: false)
        } else {
            if rng.chance(0.55) {
                var choices = ClinicalCatalogue.mentalHealthConditions
                if age < 65 { choices.removeAll { $0.coding == ClinicalCatalogue.dementia.coding } }
                add(weightedPick(choices, using: &rng), trust: true)
            }
            let physicalCount = age >= 65 ? rng.int(in: 1...3) : rng.int(in: 0...2)
            for _ in 0..<physicalCount {
                var choices = ClinicalCatalogue.physicalConditions
                if age < 50 { choices.removeAll { $0.coding == ClinicalCatalogue.heartFailure.coding } }
                add(weightedPick(choices, using: &rng), trust: rng.chance(0.5))
            }
        }
        let hasMentalHealthCondition = conditions.contains { $0.entry.isMentalHealth }
        let hasAF = conditions.contains { $0.entry.coding == ClinicalCatalogue.atrialFibrillation.coding }

        var known: Set<ProviderID> = []
        if isDemo {
            known = Set(SimulatedProviderID.all)
        } else {
            if rng.chance(0.95) { known.insert(SimulatedProviderID.gp) }
            if hasMentalHealthCondition && rng.chance(0.9) { known.insert(SimulatedProviderID.mhTrust) }
            if rng.chance(0.4) { known.insert(SimulatedProviderID.ambulance) }
            if rng.chance(0.45) { known.insert(SimulatedProviderID.nhs111) }
            if rng.chance(hasAF ? 0.8 : 0.1) { known.insert(SimulatedProviderID.cardiac) }
            let careHomeChance = age >= 75 ? 0.75 : (age >= 65 ? 0.3 : 0.05)
            if rng.chance(careHomeChance) { known.insert(SimulatedProviderID.careHome) }
        }
        let trustKnows = known.contains(SimulatedProviderID.mhTrust)
        for position in conditions.indices {
            conditions[position].heldByTrust = conditions[position].heldByTrust && trustKnows
        }

        let admission: (start: SimulatedDay, end: SimulatedDay)?
        if known.contains(SimulatedProviderID.mhTrust) && (isDemo || rng.chance(0.75)) {
            let end = reference.adding(days: -(isDemo ? 46 : rng.int(in: 20...500)))
            admission = (end.adding(days: -(isDemo ? 23 : rng.int(in: 8...45))), end)
        } else {
            admission = nil
        }

        var medicines: [Medicine] = []
        for condition in conditions {
            for entry in condition.entry.medicines where !medicines.contains(where: { $0.entry.coding == entry.coding }) {
                let started = condition.onset.adding(days: rng.int(in: 7...90))
                let dischargeChance = condition.entry.isMentalHealth ? 1.0 : 0.6
                let onDischarge = admission != nil && (isDemo || rng.chance(dischargeChance))
                medicines.append(
                    Medicine(entry: entry, started: started, communityDose: entry.usualDose, onDischarge: onDischarge))
            }
        }
        // The near-match: after discharge the GP changed the dose of a discharge medicine. Just under half of the
        // patients who can have one do, which is 6 of the default 60 (10%), the demo patient included.
        let sharedDischarge = medicines.indices.filter {
            medicines[$0].onDischarge && known.contains(SimulatedProviderID.gp)
        }
        // Drawn for every patient, used or not, so the proportion of near-matches moves smoothly with the threshold.
        let nearMatchRoll = rng.unit()
        let nearMatchChoice = rng.int(in: 0...max(0, sharedDischarge.count - 1))
        if isDemo {
            if let metformin = medicines.firstIndex(where: { $0.entry.coding == ClinicalCatalogue.metformin.coding }) {
                medicines[metformin].communityDose = medicines[metformin].entry.changedDose
            }
        } else if !sharedDischarge.isEmpty && nearMatchRoll < 0.46 {
            let changed = sharedDischarge[nearMatchChoice]
            medicines[changed].communityDose = medicines[changed].entry.changedDose
        }

        var allergies: [Allergy] = []
        func addAllergy(_ entry: CatalogueAllergen) {
            guard !allergies.contains(where: { $0.entry.substance == entry.substance }) else { return }
            let reaction = isDemo ? ClinicalCatalogue.urticaria : rng.pick(entry.reactions)
            let severity = reaction == ClinicalCatalogue.anaphylaxis ? "severe" : rng.pick(["mild", "moderate"])
            let onset = reference.adding(days: -rng.int(in: 400...9000))
            allergies.append(Allergy(entry: entry, reaction: reaction, severity: severity, onset: onset))
        }
        if isDemo {
            addAllergy(ClinicalCatalogue.penicillinAllergen)
        } else if rng.chance(0.35) {
            addAllergy(rng.pick(ClinicalCatalogue.allergens))
            if rng.chance(0.2) { addAllergy(rng.pick(ClinicalCatalogue.allergens)) }
        }

        let careHomeSince: SimulatedDay? =
            known.contains(SimulatedProviderID.careHome) ? reference.adding(days: -rng.int(in: 120...1400)) : nil

        let monitoring: (start: SimulatedDay, days: Int, copiedToTrust: Bool)?
        if known.contains(SimulatedProviderID.cardiac) {
            let start = reference.adding(days: -(isDemo ? 95 : rng.int(in: 30...600)))
            let copied = known.contains(SimulatedProviderID.mhTrust) && (isDemo || rng.chance(0.7))
            monitoring = (start, rng.pick([1, 3, 7, 14]), copied)
        } else {
            monitoring = nil
        }

        var profile = PatientProfile(
            index: index, isDemo: isDemo, gender: gender, givenName: givenName, familyName: familyName,
            birthDay: birthDay, age: age, nhsNumber: nhsNumber, known: known, conditions: conditions,
            medicines: medicines, allergies: allergies, labOrders: [], admission: admission,
            careHomeSince: careHomeSince, monitoring: monitoring)
        profile.labOrders = drawLabOrders(for: profile, using: &rng)
        return profile
    }

    private static func weightedPick(_ choices: [CatalogueCondition], using rng: inout SplitMix64) -> CatalogueCondition {
        let total = choices.reduce(0) { $0 + $1.weight }
        var target = rng.unit() * total
        for choice in choices {
            target -= choice.weight
            if target < 0 { return choice }
        }
        return choices[choices.count - 1]
    }

    /// Blood tests: the trust monitors physical health for its patients (its results are usually copied to the
    /// GP, with the same accession number); the GP runs its own.
    private static func drawLabOrders(for profile: PatientProfile, using rng: inout SplitMix64) -> [LabOrder] {
        var monitoring: [LabTestKind] = []
        for condition in profile.conditions {
            for test in condition.entry.monitoring where !monitoring.contains(test) {
                if test == .lithium && !profile.takes(ClinicalCatalogue.lithium) { continue }
                monitoring.append(test)
            }
        }
        let baseline: [LabTestKind] = [.sodium, .potassium, .creatinine, .haemoglobin]
        var orders: [LabOrder] = []
        func order(byTrust: Bool, daysAgo: Int, tests: [LabTestKind], copiedToGP: Bool) {
            let day = SimulatedDay.reference.adding(days: -daysAgo)
            let (year, month, dayOfMonth) = day.components
            let stem =
                "LAB-" + SimulatedDay.pad(year % 100, 2) + SimulatedDay.pad(month, 2) + SimulatedDay.pad(dayOfMonth, 2)
                + "-" + SimulatedDay.pad(profile.index, 3) + String(orders.count)
            let results = tests.map { test in (test, value(for: test, profile: profile, using: &rng)) }
            orders.append(
                LabOrder(
                    day: day, hour: rng.int(in: 8...11), minute: rng.pick([5, 12, 20, 34, 41, 55]),
                    accessionStem: stem, results: results, byTrust: byTrust, copiedToGP: copiedToGP))
        }
        let trustKnows = profile.knows(SimulatedProviderID.mhTrust)
        let gpKnows = profile.knows(SimulatedProviderID.gp)
        if trustKnows {
            let count = profile.isDemo ? 2 : rng.int(in: 1...2)
            for number in 0..<count {
                var tests = monitoring.isEmpty ? Array(baseline.prefix(3)) : monitoring
                if number == 1 || profile.isDemo {
                    tests += [LabTestKind.sodium, .potassium].filter { !tests.contains($0) }
                }
                let daysAgo = profile.isDemo ? (number == 0 ? 52 : 180) : rng.int(in: 20...540)
                let copied = gpKnows && (profile.isDemo || rng.chance(0.85))
                order(byTrust: true, daysAgo: daysAgo, tests: tests, copiedToGP: copied)
            }
        }
        if gpKnows {
            let count = profile.isDemo ? 1 : rng.int(in: 0...2)
            for _ in 0..<count {
                let tests = monitoring.isEmpty ? rng.pick(rng.int(in: 1...3), of: baseline) : monitoring
                order(byTrust: false, daysAgo: rng.int(in: 10...700), tests: tests, copiedToGP: true)
            }
        }
        return orders
    }

    private static func value(for test: LabTestKind, profile: PatientProfile, using rng: inout SplitMix64) -> String {
        let diabetic = profile.hasCondition(ClinicalCatalogue.type2Diabetes)
        switch test {
        case .hba1c where diabetic: return rng.decimal(49, 78, decimals: 0)
        case .hba1c: return rng.decimal(34, 46, decimals: 0)
        default:
            let range = test.drawn
            return rng.decimal(range.low, range.high, decimals: range.decimals)
        }
    }
}
