import CareRecords

extension PatientHistoryWriter {
    /// NHS 111: calls, each with the post-event message sent on to the patient's GP (a CDA document whose
    /// encompassing encounter is the call).
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
            let call = SimulatedEncounter(
                id: newID(service, "call"), type: ClinicalCatalogue.telephoneEncounter, classCode: "VR",
                classDisplay: "virtual", status: "finished", start: day.at(hour: hour, minute: minute),
                end: day.at(hour: hour, minute: minute + rng.int(in: 8...29)), reason: reason,
                serviceProvider: serviceName, outcome: disposition)
            add(.encounter(call), to: service)
            let advice = "Worsening advice given; caller understood and agreed."
            var message = SimulatedDocument(
                id: newID(service, "pem"), masterIdentifier: nil, type: ClinicalCatalogue.telephoneNote,
                date: day.at(hour: hour, minute: 59), description: "NHS 111 post-event message",
                author: serviceName, title: "NHS 111 post-event message",
                content: """
                    NHS 111 post-event message
                    Reason for call: \(reason.display ?? "").
                    Disposition: \(disposition).
                    \(advice)
                    """,
                encounter: call)
            message.sections = [
                SimulatedDocumentSection(
                    code: ClinicalCatalogue.reasonForCallSection, title: "Reason for call",
                    paragraphs: ["\(reason.display ?? "")."]),
                SimulatedDocumentSection(code: nil, title: "Disposition", paragraphs: ["\(disposition)."]),
                SimulatedDocumentSection(code: ClinicalCatalogue.instructionsSection, title: "Advice given", paragraphs: [advice]),
                SimulatedDocumentSection(code: nil, title: "Onward referral", paragraphs: [Self.onwardReferral(after: disposition)]),
            ]
            add(.document(message), to: service)
        }
    }

    /// Where the call was passed on to, which follows from its disposition.
    private static func onwardReferral(after disposition: String) -> String {
        switch disposition {
        case "Speak to GP practice within 24 hours":
            "Post-event message sent to the registered GP practice, which is to contact the patient within 24 hours."
        case "Attend emergency department": "Directed to the nearest emergency department; no booking made."
        case "Ambulance dispatched (category 3)": "Passed to Capital Ambulance Service for a category 3 response."
        case "Contact mental health crisis line": "Referred to the Thameside mental health crisis line."
        default: "No onward referral; copy sent to the registered GP practice for information."
        }
    }
}
