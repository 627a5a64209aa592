import CareRecords

extension PatientHistoryWriter {
    /// NHS 111: calls, each with the post-event message sent on to the patient's GP.
    mutating func writeNHS111() {
        let service = SimulatedProviderID.nhs111
        let serviceName = SimulatedProviderDefinition.nhs111Service.name
        let dispositions = [
            "Speak to GP practice within 24 hours", "Self care advice given", "Attend emergency department",
            "Ambulance dispatched (category 3)", "Contact mental health crisis line",
        ]
        for _ in 0..<(profile.isDemo ? 2 : rng.int(in: 1...3)) {
            let day = SimulatedDay.reference.adding(days: -rng.int(in: 2...700))
            let hour = rng.int(in: 0...22)
            let minute = rng.int(in: 0...30)
            let reason = rng.pick(ClinicalCatalogue.presentingComplaints)
            let disposition = rng.pick(dispositions)
            let callID = newID(service, "call")
            add(
                .encounter(
                    SimulatedEncounter(
                        id: callID, type: ClinicalCatalogue.telephoneEncounter, classCode: "VR", classDisplay: "virtual",
                        status: "finished", start: day.at(hour: hour, minute: minute),
                        end: day.at(hour: hour, minute: minute + rng.int(in: 8...29)), reason: reason,
                        serviceProvider: serviceName)),
                to: service)
            add(
                .document(
                    SimulatedDocument(
                        id: newID(service, "pem"), masterIdentifier: nil, type: ClinicalCatalogue.telephoneNote,
                        date: day.at(hour: hour, minute: 59), description: "NHS 111 post-event message",
                        author: serviceName, title: "NHS 111 post-event message",
                        content: """
                            NHS 111 post-event message
                            Reason for call: \(reason.display ?? "").
                            Disposition: \(disposition).
                            Worsening advice given; caller understood and agreed.
                            """,
                        encounterID: callID)),
                to: service)
        }
    }
}
