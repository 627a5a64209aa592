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
            let onScene = day.at(hour: hour, minute: minute)
            let paramedic = rng.pick(SyntheticNames.paramedics)
            add(
                .encounter(
                    SimulatedEncounter(
                        id: newID(ambulance, "inc"), type: ClinicalCatalogue.encounterForProblem, classCode: "EMER",
                        classDisplay: "emergency", status: "finished", start: onScene,
                        end: day.at(hour: hour + 1, minute: minute),
                        reason: rng.pick(ClinicalCatalogue.presentingComplaints), serviceProvider: serviceName)),
                to: ambulance)
            let vitals: [(Coding, SimulatedObservation.Value)] = [
                (ClinicalCatalogue.heartRate, .quantity(value: rng.decimal(58, 128, decimals: 0), unit: "/min")),
                (ClinicalCatalogue.respiratoryRate, .quantity(value: rng.decimal(12, 28, decimals: 0), unit: "/min")),
                (ClinicalCatalogue.oxygenSaturation, .quantity(value: rng.decimal(90, 99, decimals: 0), unit: "%")),
                (ClinicalCatalogue.bodyTemperature, .quantity(value: rng.decimal(35.9, 38.6, decimals: 1), unit: "Cel")),
                (ClinicalCatalogue.systolicPressure, .quantity(value: rng.decimal(96, 172, decimals: 0), unit: "mm[Hg]")),
                (ClinicalCatalogue.news2, .integer(rng.int(in: 0...7))),
            ]
            for (code, value) in vitals {
                add(
                    .observation(
                        SimulatedObservation(
                            id: newID(ambulance, "obs"), code: code,
                            category: code == ClinicalCatalogue.news2 ? "survey" : "vital-signs", value: value,
                            effectiveDateTime: day.at(hour: hour, minute: min(minute + 5, 59)), performer: paramedic)),
                    to: ambulance)
            }
            if !paracetamolListedElsewhere && rng.chance(0.5) {
                add(
                    .medicationStatement(
                        SimulatedMedication(
                            id: newID(ambulance, "drug"), medicine: ClinicalCatalogue.paracetamol.coding,
                            dosageText: ClinicalCatalogue.ambulanceParacetamolDose, status: "active",
                            date: day.at(hour: hour, minute: min(minute + 12, 59)), prescribingType: "administered",
                            prescriber: paramedic, endDate: day.at(hour: hour, minute: min(minute + 12, 59)))),
                    to: ambulance)
            }
        }
    }
}
