import CareRecords

extension PatientHistoryWriter {
    /// The ambulance service: incidents, the observations taken on scene, and drugs given.
    mutating func writeAmbulance() {
        let ambulance = SimulatedProviderID.ambulance
        let serviceName = SimulatedProviderDefinition.ambulanceService.name
        let paracetamolListedElsewhere =
            profile.takes(ClinicalCatalogue.paracetamol) || profile.knows(SimulatedProviderID.careHome)
        for _ in 0..<(profile.isDemo ? 1 : rng.int(in: 1...2)) {
            let day = SimulatedDay.reference.adding(days: -(profile.isDemo ? 61 : rng.int(in: 3...720)))
            let hour = rng.int(in: 0...22)
            let minute = rng.int(in: 0...59)
            let callReceived = day.at(hour: hour, minute: minute)
            let paramedic = rng.pick(SyntheticNames.paramedics)
            let incidentID = newID(ambulance, "inc")
            let complaint = rng.pick(ClinicalCatalogue.presentingComplaints)
            let vitals: [(Coding, SimulatedObservation.Value)] = [
                (ClinicalCatalogue.heartRate, .quantity(value: rng.decimal(58, 128, decimals: 0), unit: "/min")),
                (ClinicalCatalogue.respiratoryRate, .quantity(value: rng.decimal(12, 28, decimals: 0), unit: "/min")),
                (ClinicalCatalogue.oxygenSaturation, .quantity(value: rng.decimal(90, 99, decimals: 0), unit: "%")),
                (ClinicalCatalogue.bodyTemperature, .quantity(value: rng.decimal(35.9, 38.6, decimals: 1), unit: "Cel")),
                (ClinicalCatalogue.systolicPressure, .quantity(value: rng.decimal(96, 172, decimals: 0), unit: "mm[Hg]")),
                (ClinicalCatalogue.news2, .integer(rng.int(in: 0...7))),
            ]
            var news2 = 0
            for case (_, .integer(let score)) in vitals { news2 = score }
            add(
                .encounter(
                    SimulatedEncounter(
                        id: incidentID, type: ClinicalCatalogue.encounterForProblem, classCode: "EMER",
                        classDisplay: "emergency", status: "finished", start: callReceived,
                        end: day.at(hour: hour + 1, minute: minute), reason: complaint, serviceProvider: serviceName,
                        outcome: Self.conveyance(complaint: complaint, news2: news2))),
                to: ambulance)
            for (code, value) in vitals {
                add(
                    .observation(
                        SimulatedObservation(
                            id: newID(ambulance, "obs"), code: code,
                            category: code == ClinicalCatalogue.news2 ? "survey" : "vital-signs", value: value,
                            effectiveDateTime: day.at(hour: hour, minute: min(minute + 5, 59)), performer: paramedic,
                            encounterID: incidentID)),
                    to: ambulance)
            }
            if !paracetamolListedElsewhere && rng.chance(0.5) {
                add(
                    .medicationStatement(
                        SimulatedMedication(
                            id: newID(ambulance, "drug"), medicine: ClinicalCatalogue.paracetamol.coding,
                            dosageText: ClinicalCatalogue.ambulanceParacetamolDose, status: "active",
                            date: day.at(hour: hour, minute: min(minute + 12, 59)), prescribingType: "administered",
                            prescriber: paramedic, endDate: day.at(hour: hour, minute: min(minute + 12, 59)),
                            encounterID: incidentID)),
                    to: ambulance)
            }
        }
    }

    /// What the crew did with the patient, which follows from the complaint and how unwell they were.
    static func conveyance(complaint: Coding, news2: Int) -> String {
        if news2 >= 5 || complaint.code == "29857009" { return "Conveyed to emergency department" }
        if news2 >= 3 { return "Conveyed to urgent treatment centre" }
        return "Treated on scene and discharged; GP informed"
    }
}
