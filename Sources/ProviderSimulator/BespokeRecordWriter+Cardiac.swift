import CareRecords

extension BespokeRecordWriter {
    static let cardiacCodeSystem = "https://fhir.caregate.example/CodeSystem/cardiac-monitoring"

    /// MonitoringSummary: Service, Patient, Episode*. Episode (`id`): Device, Start, End, Physiologist,
    /// HeartRateTrend*, ArrhythmiaBurden*, Report*. An episode is the measurements sharing a device and period; each
    /// report belongs to the episode it reports on (the last one to end before it was issued).
    static func monitoringSummary(
        _ xml: inout XMLWriter, provider: SimulatedProviderDefinition, patient: SyntheticPatient?
    ) {
        xml.open("MonitoringSummary", ["xmlns": Layout.cardiacMonitoring.namespace])
        organisation(&xml, "Service", provider)
        if let patient {
            demographics(&xml, "Patient", patient)
            let resources = patient.resources(at: provider.id)
            var episodes: [(key: String, observations: [SimulatedObservation], reports: [SimulatedDocument])] = []
            for case .observation(let observation) in resources {
                let key = "\(observation.device ?? "")|\(observation.effectiveStart ?? "")|\(observation.effectiveDateTime)"
                if let index = episodes.firstIndex(where: { $0.key == key }) {
                    episodes[index].observations.append(observation)
                } else {
                    episodes.append((key, [observation], []))
                }
            }
            for case .document(let report) in resources where !episodes.isEmpty {
                let ended = episodes.indices.last { episodes[$0].observations[0].effectiveDateTime <= report.date }
                episodes[ended ?? episodes.count - 1].reports.append(report)
            }
            for (number, episode) in zip(1..., episodes) {
                writeEpisode(
                    &xml, id: "car-epi-\(SimulatedDay.pad(patient.index, 4))-\(number)", episode.observations,
                    reports: episode.reports)
            }
        }
        xml.close("MonitoringSummary")
    }

    private static func writeEpisode(
        _ xml: inout XMLWriter, id: String, _ observations: [SimulatedObservation], reports: [SimulatedDocument]
    ) {
        let first = observations[0]
        xml.element("Episode", ["id": id]) {
            $0.text("Device", first.device)
            $0.text("Start", first.effectiveStart)
            $0.text("End", first.effectiveDateTime)
            $0.text("Physiologist", first.performer)
            for observation in observations {
                guard case .quantity(let value, let unit) = observation.value else { continue }
                if observation.code == ClinicalCatalogue.heartRate {
                    // HeartRateTrend: Code, Recorded, Minimum, Mean, Maximum, Unit.
                    $0.element("HeartRateTrend", ["id": observation.id]) {
                        coded(&$0, "Code", observation.code, impliedSystem: Coding.System.loinc)
                        $0.text("Recorded", observation.effectiveDateTime)
                        $0.text("Minimum", observation.lowest)
                        $0.text("Mean", value)
                        $0.text("Maximum", observation.highest)
                        $0.text("Unit", unit)
                    }
                } else {
                    // ArrhythmiaBurden: Code, Recorded, Burden (with its unit).
                    $0.element("ArrhythmiaBurden", ["id": observation.id]) {
                        coded(&$0, "Code", observation.code, impliedSystem: Coding.System.loinc)
                        $0.text("Recorded", observation.effectiveDateTime)
                        $0.text("Burden", value, ["unit": unit])
                    }
                }
            }
            for report in reports {
                // Report: DocumentId, Type, Title, Issued, Author, Description, Text.
                $0.element("Report", ["id": report.id]) {
                    if let shared = report.masterIdentifier {
                        $0.text("DocumentId", shared.value, ["system": shared.system])
                    }
                    coded(&$0, "Type", report.type, impliedSystem: Coding.System.snomedCT)
                    $0.text("Title", report.title)
                    $0.text("Issued", report.date)
                    $0.text("Author", report.author)
                    $0.text("Description", report.description)
                    $0.text("Text", report.content)
                }
            }
        }
    }
}
