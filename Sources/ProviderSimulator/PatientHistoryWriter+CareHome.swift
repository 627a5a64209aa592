import CareRecords

extension PatientHistoryWriter {
    /// The care home: care plans, the medication administration record (which follows the GP's prescriptions),
    /// allergies, weights and falls.
    mutating func writeCareHome() {
        guard let since = profile.careHomeSince else { return }
        let home = SimulatedProviderID.careHome
        let nurse = rng.pick(SyntheticNames.nurses)
        let homeName = SimulatedProviderDefinition.careHome.name

        add(
            .carePlan(
                SimulatedCarePlan(
                    id: newID(home, "cp"), category: ClinicalCatalogue.carePlan, title: "Personal care and support plan",
                    description: "Support with washing, dressing and mobility, agreed with the resident and family.",
                    status: "active", created: since.adding(days: 2).text, author: homeName,
                    activities: ["Assistance of one with personal care each morning", "Encourage daily walks with frame"])),
            to: home)
        let falls = profile.isDemo ? 1 : rng.int(in: 0...2)
        if falls > 0 {
            add(
                .carePlan(
                    SimulatedCarePlan(
                        id: newID(home, "cp"), category: ClinicalCatalogue.carePlan, title: "Falls prevention plan",
                        description: "Reduce the risk of further falls.", status: "active",
                        created: since.adding(days: 30).text, author: homeName,
                        activities: ["Sensor mat at night", "Review footwear monthly", "Two-hourly checks overnight"])),
                to: home)
        }

        for medicine in profile.medicines {
            add(
                .medicationStatement(
                    SimulatedMedication(
                        id: newID(home, "mar"), medicine: medicine.entry.coding, dosageText: medicine.communityDose,
                        status: "active", date: max(since, medicine.started).text, prescribingType: "mar",
                        prescriber: nurse, administrations: Self.administrations(of: medicine.communityDose))),
                to: home)
        }
        if !profile.takes(ClinicalCatalogue.paracetamol) && (profile.isDemo || rng.chance(0.6)) {
            let dose = ClinicalCatalogue.paracetamol.usualDose
            add(
                .medicationStatement(
                    SimulatedMedication(
                        id: newID(home, "mar"), medicine: ClinicalCatalogue.paracetamol.coding,
                        dosageText: dose, status: "active", date: since.text,
                        prescribingType: "mar", prescriber: nurse, administrations: Self.administrations(of: dose))),
                to: home)
        }

        writeAllergies(to: home, recordedAfter: since)

        var weight = Double(rng.int(in: 480...880)) / 10
        for monthsAgo in (0..<3).reversed() {
            let day = SimulatedDay.reference.adding(days: -(monthsAgo * 30 + rng.int(in: 1...5)))
            guard day > since else { continue }
            weight += Double(rng.int(in: -12...8)) / 10
            let tenths = Int((weight * 10).rounded())
            add(
                .observation(
                    SimulatedObservation(
                        id: newID(home, "obs"), code: ClinicalCatalogue.bodyWeight, category: "vital-signs",
                        value: .quantity(value: SplitMix64.format(scaled: tenths, decimals: 1), unit: "kg"),
                        effectiveDateTime: day.at(hour: 7, minute: 30), performer: nurse)),
                to: home)
        }
        let places = ["in the bedroom", "in the en-suite bathroom", "in the lounge", "in the corridor"]
        for _ in 0..<falls {
            let day = SimulatedDay.reference.adding(days: -rng.int(in: 5...300))
            guard day > since else { continue }
            let witnessed = rng.chance(0.4)
            add(
                .observation(
                    SimulatedObservation(
                        id: newID(home, "obs"), code: ClinicalCatalogue.fall, category: "survey",
                        value: .text("\(witnessed ? "Witnessed" : "Unwitnessed") fall \(rng.pick(places)); no injury found"),
                        effectiveDateTime: day.at(hour: rng.int(in: 0...23), minute: rng.int(in: 0...59)),
                        performer: nurse)),
                to: home)
        }
    }

    /// The doses given over the last two days before the reference day, at the home's medicine-round times for the
    /// instruction: derived from the dose text, so the record follows the prescription exactly.
    static func administrations(of dose: String) -> [String] {
        let text = dose.lowercased()
        let rounds: [(hour: Int, minute: Int)]
        if text.contains("when required") {
            rounds = [(14, 0)]
        } else if text.contains("four times") {
            rounds = [(8, 0), (12, 0), (16, 0), (20, 0)]
        } else if text.contains("twice") {
            rounds = [(8, 0), (18, 0)]
        } else if text.contains("at night") {
            rounds = [(22, 0)]
        } else if text.contains("evening") {
            rounds = [(18, 0)]
        } else {
            rounds = [(8, 0)]
        }
        return [2, 1].flatMap { daysAgo in
            rounds.map { SimulatedDay.reference.adding(days: -daysAgo).at(hour: $0.hour, minute: $0.minute) }
        }
    }
}
