import CareRecords

extension PatientHistoryWriter {
    /// The cardiac monitoring service: summary measurements from an ambulatory ECG episode, and its report.
    mutating func writeCardiac() {
        guard let monitoring = profile.monitoring else { return }
        let cardiac = SimulatedProviderID.cardiac
        let hasAF = profile.hasCondition(ClinicalCatalogue.atrialFibrillation)
        let start = monitoring.start.at(hour: 9, minute: 0)
        let end = monitoring.start.adding(days: monitoring.days).at(hour: 9, minute: 0)
        let device = Self.monitor(days: monitoring.days)
        let physiologist = "Cardiac physiologist \(rng.pick(["P Ruiz", "H Kaur", "D Mensah"]))"
        let meanRate = rng.decimal(hasAF ? 72 : 58, hasAF ? 104 : 88, decimals: 0)
        // The trend's extremes follow from the mean (AF swings wider), so adding them drew nothing new.
        let mean = Double(meanRate) ?? 70
        add(
            .observation(
                SimulatedObservation(
                    id: newID(cardiac, "obs"), code: ClinicalCatalogue.heartRate, category: "vital-signs",
                    value: .quantity(value: meanRate, unit: "/min"), effectiveDateTime: end, performer: physiologist,
                    effectiveStart: start, device: device,
                    lowest: String(Int((mean * (hasAF ? 0.58 : 0.66)).rounded())),
                    highest: String(Int((mean * (hasAF ? 1.9 : 1.65)).rounded())))),
            to: cardiac)
        let burden = hasAF ? rng.decimal(4, 62, decimals: 1) : rng.decimal(0, 0.8, decimals: 1)
        add(
            .observation(
                SimulatedObservation(
                    id: newID(cardiac, "obs"), code: ClinicalCatalogue.afBurden, category: "procedure",
                    value: .quantity(value: burden, unit: "%"), effectiveDateTime: end, performer: physiologist,
                    effectiveStart: start, device: device)),
            to: cardiac)
        add(.document(cardiacReport(monitoring, id: newID(cardiac, "doc"))), to: cardiac)
    }

    /// The recorder a monitoring episode of this length uses.
    static func monitor(days: Int) -> String {
        days <= 3 ? "\(days * 24)-hour Holter recorder" : "\(days)-day ECG patch monitor"
    }
}
