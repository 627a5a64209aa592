import CareRecords

extension BespokeRecordWriter {
    /// EPCRExport: Service, Patient, Incident*. Incident (`id`): IncidentNumber, CallReceived, Cleared, Status,
    /// Complaint (SNOMED CT), Outcome, Observations (VitalSign (LOINC) and EarlyWarningScore (SNOMED CT), in the
    /// order taken), DrugsGiven (Drug (dm+d)).
    static func ambulanceExport(
        _ xml: inout XMLWriter, provider: SimulatedProviderDefinition, patient: SyntheticPatient?
    ) {
        xml.open("EPCRExport", ["xmlns": Layout.ambulanceEPCR.namespace])
        organisation(&xml, "Service", provider)
        if let patient {
            demographics(&xml, "Patient", patient)
            let resources = patient.resources(at: provider.id)
            for case .encounter(let incident) in resources {
                let observations = resources.compactMap { resource -> SimulatedObservation? in
                    guard case .observation(let observation) = resource, observation.encounterID == incident.id else {
                        return nil
                    }
                    return observation
                }
                let drugs = resources.compactMap { resource -> SimulatedMedication? in
                    guard case .medicationStatement(let drug) = resource, drug.encounterID == incident.id else {
                        return nil
                    }
                    return drug
                }
                writeIncident(&xml, incident, observations: observations, drugs: drugs)
            }
        }
        xml.close("EPCRExport")
    }

    private static func writeIncident(
        _ xml: inout XMLWriter, _ incident: SimulatedEncounter, observations: [SimulatedObservation],
        drugs: [SimulatedMedication]
    ) {
        xml.element("Incident", ["id": incident.id]) {
            $0.text("IncidentNumber", incidentNumber(incident))
            $0.text("CallReceived", incident.start)
            $0.text("Cleared", incident.end)
            $0.text("Status", incident.status)
            if let complaint = incident.reason {
                coded(&$0, "Complaint", complaint, impliedSystem: Coding.System.snomedCT)
            }
            $0.text("Outcome", incident.outcome)
            if !observations.isEmpty {
                $0.element("Observations") {
                    for observation in observations { writeObservation(&$0, observation) }
                }
            }
            if !drugs.isEmpty {
                $0.element("DrugsGiven") {
                    for drug in drugs {
                        $0.element("Drug", ["id": drug.id]) {
                            $0.text("Administered", drug.date)
                            $0.text("DmdCode", drug.medicine.code)
                            $0.text("Name", drug.medicine.display)
                            $0.text("Dose", drug.dosageText)
                            $0.text("Route", "Oral")
                            $0.text("GivenBy", drug.prescriber)
                        }
                    }
                }
            }
        }
    }

    /// VitalSign: Taken, Code, Value, Unit, RecordedBy. EarlyWarningScore: Taken, Scale, Score, RecordedBy.
    private static func writeObservation(_ xml: inout XMLWriter, _ observation: SimulatedObservation) {
        switch observation.value {
        case .integer(let score):
            xml.element("EarlyWarningScore", ["id": observation.id]) {
                $0.text("Taken", observation.effectiveDateTime)
                coded(&$0, "Scale", observation.code, impliedSystem: Coding.System.snomedCT)
                $0.text("Score", String(score))
                $0.text("RecordedBy", observation.performer)
            }
        case .quantity(let value, let unit):
            xml.element("VitalSign", ["id": observation.id]) {
                $0.text("Taken", observation.effectiveDateTime)
                coded(&$0, "Code", observation.code, impliedSystem: Coding.System.loinc)
                $0.text("Value", value)
                $0.text("Unit", unit)
                $0.text("RecordedBy", observation.performer)
            }
        case .text(let text):
            xml.element("VitalSign", ["id": observation.id]) {
                $0.text("Taken", observation.effectiveDateTime)
                coded(&$0, "Code", observation.code, impliedSystem: Coding.System.loinc)
                $0.text("Comment", text)
                $0.text("RecordedBy", observation.performer)
            }
        }
    }

    /// The service's incident number: `CAS-` and the call date, then the record's own sequence: `CAS-260920-0000-1`.
    static func incidentNumber(_ incident: SimulatedEncounter) -> String {
        let date = incident.start.prefix(10).filter(\.isNumber).dropFirst(2)
        let sequence = incident.id.split(separator: "-").suffix(2).joined(separator: "-")
        return "CAS-\(date)-\(sequence)"
    }
}
