import CareRecords

extension PatientHistoryWriter {
    /// The cardiac monitoring service: summary measurements from an ambulatory ECG episode, and its report.
    mutating func writeCardiac() {
        guard let monitoring = profile.monitoring else { return }
        let cardiac = SimulatedProviderID.cardiac
        let hasAF = profile.hasCondition(ClinicalCatalogue.atrialFibrillation)
        let end = monitoring.start.adding(days: monitoring.days).at(hour: 9, minute: 0)
        let physiologist = "Cardiac physiologist \(rng.pick(["P Ruiz", "H Kaur", "D Mensah"]))"
        add(
            .observation(
                SimulatedObservation(
                    id: newID(cardiac, "obs"), code: ClinicalCatalogue.heartRate, category: "vital-signs",
                    value: .quantity(value: rng.decimal(hasAF ? 72 : 58, hasAF ? 104 : 88, decimals: 0), unit: "/min"),
                    effectiveDateTime: end, performer: physiologist)),
            to: cardiac)
        let burden = hasAF ? rng.decimal(4, 62, decimals: 1) : rng.decimal(0, 0.8, decimals: 1)
        add(
            .observation(
                SimulatedObservation(
                    id: newID(cardiac, "obs"), code: ClinicalCatalogue.afBurden, category: "procedure",
                    value: .quantity(value: burden, unit: "%"),
                    effectiveDateTime: end, performer: physiologist)),
            to: cardiac)
        add(.document(cardiacReport(monitoring, id: newID(cardiac, "doc"))), to: cardiac)
    }
}
