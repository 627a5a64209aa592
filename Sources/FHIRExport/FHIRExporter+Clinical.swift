import CareRecords

extension FHIRExporter {
    /// The entry as the resource `FHIRResourceType.of(entry)` names, with provenance, the patient reference and
    /// every element R4 requires of that type.
    public func resource(for entry: MergedEntry, patient: NHSNumber) -> FHIRResource {
        let type = FHIRResourceType.of(entry)
        return FHIRResource(type, id: FHIRPrimitive.id(entry.id)) { resource in
            provenance(entry, into: &resource)
            switch type {
            case .patient: break  // never the type of an entry
            case .allergyIntolerance: allergyIntolerance(entry, patient: patient, into: &resource)
            case .medicationStatement: medicationStatement(entry, patient: patient, into: &resource)
            case .observation: observation(entry, patient: patient, into: &resource)
            case .diagnosticReport: diagnosticReport(entry, patient: patient, into: &resource)
            case .encounter: encounter(entry, patient: patient, into: &resource)
            case .appointment: appointment(entry, patient: patient, into: &resource)
            case .documentReference: documentReference(entry, patient: patient, into: &resource)
            case .carePlan: carePlan(entry, patient: patient, into: &resource)
            case .condition: condition(entry, patient: patient, into: &resource)
            case .immunization: immunization(entry, patient: patient, into: &resource)
            }
        }
    }

    /// The entry's coding with its summary as text. These elements are required, so an entry with neither a
    /// code nor a summary still gets one: its category's name as text.
    private func requiredConcept(_ entry: MergedEntry) -> FHIRElement? {
        codeableConcept(entry.code, text: entry.summary) ?? codeableConcept(nil, text: entry.category.rawValue)
    }

    /// The element order in each builder below is the R4 schema's; FHIR XML is invalid in any other.
    private func allergyIntolerance(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        // ait-1/ait-2: an entered-in-error allergy has a verification status and no clinical status; any other
        // has a clinical status.
        if FHIRStatus.isEnteredInError(entry.status) {
            resource.element("verificationStatus", concept(
                system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", code: "entered-in-error"))
        } else {
            resource.element("clinicalStatus", concept(
                system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                code: FHIRStatus.allergyClinical.map(entry.status)))
        }
        resource.element("code", requiredConcept(entry))
        resource.element("patient", patientReference(patient))
        resource.lexical("recordedDate", entry.date.flatMap(FHIRPrimitive.dateTime))
    }

    private func medicationStatement(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.medicationStatement.map(entry.status))
        resource.element("medicationCodeableConcept", requiredConcept(entry))
        resource.element("subject", patientReference(patient))
        resource.lexical("effectiveDateTime", entry.date.flatMap(FHIRPrimitive.dateTime))
        resource.repeating("dosage") { $0.string("text", entry.dose) }
    }

    private func observation(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.observation.map(entry.status))
        let category = entry.category == .testResult ? ("laboratory", "Laboratory") : ("vital-signs", "Vital Signs")
        resource.repeating("category", concept(
            system: "http://terminology.hl7.org/CodeSystem/observation-category", code: category.0, display: category.1))
        resource.element("code", requiredConcept(entry))
        resource.element("subject", patientReference(patient))
        resource.lexical("effectiveDateTime", entry.date.flatMap(FHIRPrimitive.dateTime))
        if let value = entry.value { observationValue(value, into: &resource) }
    }

    /// `valueQuantity` when the value is a number (a leading `<`, `<=`, `>=` or `>` becoming its comparator),
    /// else `valueString` with the value and unit as the provider wrote them.
    private func observationValue(_ value: Quantity, into resource: inout FHIRElementBuilder) {
        var text = Substring(value.value.trimmingSpaces())
        var comparator: String?
        for candidate in ["<=", ">=", "<", ">"] where text.hasPrefix(candidate) {
            comparator = candidate
            text = text.dropFirst(candidate.count)
            break
        }
        if let decimal = FHIRPrimitive.decimal(String(text)) {
            resource.element("valueQuantity") { quantity in
                quantity.number("value", decimal)
                quantity.code("comparator", comparator)
                quantity.string("unit", value.unit)
            }
        } else {
            resource.string("valueString", [value.value, value.unit ?? ""].joined(separator: " "))
        }
    }

    private func diagnosticReport(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.diagnosticReport.map(entry.status))
        resource.repeating("category", concept(
            system: "http://terminology.hl7.org/CodeSystem/v2-0074", code: "LAB", display: "Laboratory"))
        resource.element("code", requiredConcept(entry))
        resource.element("subject", patientReference(patient))
        resource.lexical("effectiveDateTime", entry.date.flatMap(FHIRPrimitive.dateTime))
    }

    /// `class` is required and CareGate's entries do not say what kind of encounter it was, so it is the
    /// ambulatory code, as the brief for the export chose.
    private func encounter(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.encounter.map(entry.status))
        resource.element("class", coding(
            system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "AMB", display: "ambulatory"))
        resource.repeating("type", requiredConcept(entry))
        resource.element("subject", patientReference(patient))
        resource.element("period") { $0.lexical("start", entry.date.flatMap(FHIRPrimitive.dateTime)) }
    }

    /// `start` is an instant, so only a full date-time goes there; a less precise date (a day, a month) is kept
    /// as `requestedPeriod` (start and end both that date) rather than lost or made up to a time.
    private func appointment(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.appointment.map(entry.status))
        resource.repeating("serviceType", entry.code.flatMap { codeableConcept($0, text: nil) })
        resource.string("description", entry.summary)
        let start = entry.date.flatMap(FHIRPrimitive.instant)
        resource.lexical("start", start)
        resource.repeating("participant") { participant in
            participant.element("actor", patientReference(patient))
            participant.code("status", "accepted")
        }
        if start == nil, let date = entry.date.flatMap(FHIRPrimitive.dateTime) {
            resource.repeating("requestedPeriod") { period in
                period.lexical("start", date)
                period.lexical("end", date)
            }
        }
    }

    private func documentReference(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.documentReference.map(entry.status))
        resource.element("type", entry.code.flatMap { codeableConcept($0, text: nil) })
        resource.element("subject", patientReference(patient))
        resource.lexical("date", entry.date.flatMap(FHIRPrimitive.instant))
        resource.string("description", entry.summary)
        resource.repeating("content") { content in
            content.element("attachment") { attachment in
                attachment.code("contentType", "text/plain")
                attachment.string("title", entry.summary)
                attachment.lexical("creation", entry.date.flatMap(FHIRPrimitive.dateTime))
            }
        }
    }

    private func carePlan(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.carePlan.map(entry.status))
        resource.code("intent", "plan")
        resource.repeating("category", entry.code.flatMap { codeableConcept($0, text: nil) })
        resource.string("title", entry.summary)
        resource.element("subject", patientReference(patient))
        resource.element("period") { $0.lexical("start", entry.date.flatMap(FHIRPrimitive.dateTime)) }
    }

    private func condition(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        // con-5: an entered-in-error condition has a verification status and no clinical status.
        if FHIRStatus.isEnteredInError(entry.status) {
            resource.element("verificationStatus", concept(
                system: "http://terminology.hl7.org/CodeSystem/condition-ver-status", code: "entered-in-error"))
        } else {
            resource.element("clinicalStatus", concept(
                system: "http://terminology.hl7.org/CodeSystem/condition-clinical",
                code: FHIRStatus.conditionClinical.map(entry.status)))
        }
        resource.element("code", requiredConcept(entry))
        resource.element("subject", patientReference(patient))
        resource.lexical("recordedDate", entry.date.flatMap(FHIRPrimitive.dateTime))
    }

    /// `occurrence[x]` is required: the date when there is one, else `occurrenceString` "unknown".
    private func immunization(_ entry: MergedEntry, patient: NHSNumber, into resource: inout FHIRElementBuilder) {
        resource.code("status", FHIRStatus.immunization.map(entry.status))
        resource.element("vaccineCode", requiredConcept(entry))
        resource.element("patient", patientReference(patient))
        if let date = entry.date.flatMap(FHIRPrimitive.dateTime) {
            resource.lexical("occurrenceDateTime", date)
        } else {
            resource.string("occurrenceString", "unknown")
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
