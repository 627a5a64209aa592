import CareRecords

extension FHIRBundleWriter {
    /// AllergyIntolerance: id, identifier, clinicalStatus, verificationStatus, type, category, criticality, code,
    /// patient, encounter, onset[x], recordedDate, recorder, asserter, lastOccurrence, note, reaction.
    static func writeAllergy(_ xml: inout FHIRXMLBuffer, _ allergy: SimulatedAllergy, context: ResourceContext) {
        xml.resourceID(allergy.id)
        xml.codeableConcept(
            "clinicalStatus", system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            code: "active", display: "Active")
        xml.codeableConcept(
            "verificationStatus", system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
            code: "confirmed", display: "Confirmed")
        xml.value("type", "allergy")
        xml.value("category", allergy.category)
        xml.value("criticality", allergy.criticality)
        xml.codeableConcept("code", allergy.substance)
        xml.reference("patient", context.patientReference)
        xml.value("recordedDate", allergy.recordedDate)
        // AllergyIntolerance.Reaction: substance, manifestation, description, onset, severity, exposureRoute, note.
        xml.element("reaction") {
            $0.codeableConcept("manifestation", allergy.reaction)
            $0.value("severity", allergy.severity)
        }
    }

    /// Condition: id, identifier, clinicalStatus, verificationStatus, category, severity, code, bodySite,
    /// subject, encounter, onset[x], abatement[x], recordedDate, recorder, asserter, stage, evidence, note.
    static func writeCondition(_ xml: inout FHIRXMLBuffer, _ condition: SimulatedCondition, context: ResourceContext) {
        xml.resourceID(condition.id)
        xml.codeableConcept(
            "clinicalStatus", system: "http://terminology.hl7.org/CodeSystem/condition-clinical",
            code: condition.clinicalStatus, display: condition.clinicalStatus.capitalisedFirst)
        xml.codeableConcept(
            "verificationStatus", system: "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            code: "confirmed", display: "Confirmed")
        xml.codeableConcept(
            "category", system: "http://terminology.hl7.org/CodeSystem/condition-category",
            code: "problem-list-item", display: "Problem List Item")
        xml.codeableConcept("code", condition.code)
        xml.reference("subject", context.patientReference)
        xml.value("onsetDateTime", condition.onsetDate)
        xml.value("recordedDate", condition.recordedDate)
    }

    /// Immunization: id, identifier, status, statusReason, vaccineCode, patient, encounter, occurrence[x],
    /// recorded, primarySource, reportOrigin, location, manufacturer, lotNumber, expirationDate, site, route,
    /// doseQuantity, performer, ….
    static func writeImmunisation(
        _ xml: inout FHIRXMLBuffer, _ immunisation: SimulatedImmunisation, context: ResourceContext
    ) {
        xml.resourceID(immunisation.id)
        xml.value("status", "completed")
        xml.codeableConcept("vaccineCode", immunisation.vaccine)
        xml.reference("patient", context.patientReference)
        xml.value("occurrenceDateTime", immunisation.date)
        xml.value("recorded", immunisation.date)
        xml.value("primarySource", "true")
        xml.value("lotNumber", immunisation.lotNumber)
        xml.codeableConcept(
            "route", Coding(system: Coding.System.snomedCT, code: "78421000", display: "Intramuscular route"))
        // Immunization.Performer: function, actor.
        xml.element("performer") { $0.reference("actor", display: immunisation.performer) }
    }

    /// CarePlan: id, identifier, instantiatesCanonical, instantiatesUri, basedOn, replaces, partOf, status,
    /// intent, category, title, description, subject, encounter, period, created, author, contributor, careTeam,
    /// addresses, supportingInfo, goal, activity, note.
    static func writeCarePlan(_ xml: inout FHIRXMLBuffer, _ plan: SimulatedCarePlan, context: ResourceContext) {
        xml.resourceID(plan.id)
        xml.value("status", plan.status)
        xml.value("intent", "plan")
        xml.codeableConcept("category", plan.category)
        xml.value("title", plan.title)
        xml.value("description", plan.description)
        xml.reference("subject", context.patientReference)
        xml.period(start: plan.created, end: nil)
        xml.value("created", plan.created)
        xml.reference("author", display: plan.author)
        // CarePlan.Activity.detail: kind, …, code, …, status, statusReason, doNotPerform, scheduled[x], …,
        // description.
        for activity in plan.activities {
            xml.element("activity") {
                $0.element("detail") {
                    $0.value("status", "in-progress")
                    $0.value("description", activity)
                }
            }
        }
    }

    /// DocumentReference: id, masterIdentifier, identifier, status, docStatus, type, category, subject, date,
    /// author, authenticator, custodian, relatesTo, description, securityLabel, content, context.
    static func writeDocument(_ xml: inout FHIRXMLBuffer, _ document: SimulatedDocument, context: ResourceContext) {
        xml.resourceID(document.id)
        if let master = document.masterIdentifier { xml.identifier("masterIdentifier", master) }
        xml.value("status", "current")
        xml.value("docStatus", "final")
        xml.codeableConcept("type", document.type)
        xml.reference("subject", context.patientReference)
        xml.value("date", document.date)
        xml.reference("author", display: document.author)
        xml.element("custodian") {
            $0.identifier(EntryIdentifier(system: odsSystem, value: context.provider.odsCode))
            $0.value("display", context.provider.name)
        }
        xml.value("description", document.description)
        // DocumentReference.Content: attachment, format. Attachment: contentType, language, data, url, size, hash,
        // title, creation.
        let text = Array(document.content.utf8)
        xml.element("content") {
            $0.element("attachment") {
                $0.value("contentType", "text/plain; charset=utf-8")
                $0.value("language", "en-GB")
                $0.value("data", Base64.encode(text))
                $0.value("size", String(text.count))
                $0.value("title", document.title)
                $0.value("creation", document.date)
            }
        }
        if let encounterID = document.encounterID {
            // DocumentReference.Context: encounter, event, period, ….
            xml.element("context") { $0.reference("encounter", "Encounter/\(encounterID)") }
        }
    }
}

extension String {
    var capitalisedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
