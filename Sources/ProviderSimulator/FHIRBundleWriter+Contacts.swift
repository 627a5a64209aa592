import CareRecords

extension FHIRBundleWriter {
    /// Encounter: id, identifier, status, statusHistory, class, classHistory, type, serviceType, priority,
    /// subject, episodeOfCare, basedOn, participant, appointment, period, length, reasonCode, …, serviceProvider.
    static func writeEncounter(_ xml: inout FHIRXMLBuffer, _ encounter: SimulatedEncounter, context: ResourceContext) {
        xml.resourceID(encounter.id)
        xml.value("status", encounter.status)
        xml.coding(
            "class", system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: encounter.classCode,
            display: encounter.classDisplay)
        xml.codeableConcept("type", encounter.type)
        xml.reference("subject", context.patientReference)
        xml.period(start: encounter.start, end: encounter.end)
        if let reason = encounter.reason { xml.codeableConcept("reasonCode", reason) }
        xml.element("serviceProvider") {
            $0.identifier(EntryIdentifier(system: odsSystem, value: context.provider.odsCode))
            $0.value("display", encounter.serviceProvider)
        }
    }

    /// Appointment: id, identifier, status, cancelationReason, serviceCategory, serviceType, specialty,
    /// appointmentType, reasonCode, reasonReference, priority, description, supportingInformation, start, end,
    /// minutesDuration, slot, created, comment, patientInstruction, basedOn, participant, requestedPeriod.
    static func writeAppointment(
        _ xml: inout FHIRXMLBuffer, _ appointment: SimulatedAppointment, context: ResourceContext
    ) {
        xml.resourceID(appointment.id)
        xml.value("status", appointment.status)
        xml.codeableConcept("serviceType", appointment.serviceType)
        xml.value("description", appointment.description)
        xml.value("start", appointment.start)
        xml.value("end", appointment.end)
        xml.value("minutesDuration", String(appointment.minutes))
        // Appointment.Participant: type, actor, required, status, period.
        xml.element("participant") {
            $0.reference("actor", context.patientReference)
            $0.value("required", "required")
            $0.value("status", "accepted")
        }
        xml.element("participant") {
            $0.reference("actor", display: appointment.practitioner)
            $0.value("required", "required")
            $0.value("status", "accepted")
        }
    }
}
