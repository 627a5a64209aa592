import CareRecords

/// Writes one provider's answer to `GET /fhir/Patient/{nhs}/$everything`: a FHIR R4 `searchset` Bundle holding the
/// provider's Patient resource and everything it holds for them, every entry with `search.mode` = `match`. A
/// patient the provider does not know gives an empty searchset (`total` 0), as a real FHIR server would.
///
/// The output is valid against the official R4 XSD (`fhir-single.xsd`), which fixes element order; each writer
/// lists its type's order in its doc comment.
enum FHIRBundleWriter {
    static let nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
    static let odsSystem = "https://fhir.nhs.uk/Id/ods-organization-code"

    static func bundle(provider: SimulatedProviderDefinition, patient: SyntheticPatient?) -> [UInt8] {
        let prefix = PatientHistoryWriter.prefix(provider.id)
        guard let patient, let resources = patient.records[provider.id] else {
            var xml = FHIRXMLBuffer(capacity: 512)
            xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            xml.open("Bundle", namespace: "http://hl7.org/fhir")
            xml.value("id", "everything-\(prefix)-none")
            xml.value("type", "searchset")
            xml.value("total", "0")
            xml.close("Bundle")
            return xml.bytes
        }

        let patientID = "\(prefix)-pt-\(SimulatedDay.pad(patient.index, 4))"
        var xml = FHIRXMLBuffer(capacity: 4096 + resources.count * 900)
        xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        xml.open("Bundle", namespace: "http://hl7.org/fhir")
        // Bundle: id, meta, implicitRules, language, identifier, type, timestamp, total, link, entry, signature.
        xml.value("id", "everything-\(patientID)")
        xml.value("type", "searchset")
        xml.value("total", String(resources.count + 1))

        entry(&xml, base: provider.fhirBase, type: "Patient", id: patientID) {
            writePatient(&$0, patient, id: patientID, provider: provider)
        }
        let context = ResourceContext(patientReference: "Patient/\(patientID)", provider: provider)
        for resource in resources {
            entry(&xml, base: provider.fhirBase, type: resource.resourceType, id: resource.id) {
                write(&$0, resource, context: context)
            }
        }
        xml.close("Bundle")
        return xml.bytes
    }

    struct ResourceContext {
        var patientReference: String
        var provider: SimulatedProviderDefinition
    }

    /// Bundle.entry: link, fullUrl, resource, search, request, response.
    private static func entry(
        _ xml: inout FHIRXMLBuffer, base: String, type: String, id: String, _ body: (inout FHIRXMLBuffer) -> Void
    ) {
        xml.open("entry")
        xml.value("fullUrl", "\(base)/\(type)/\(id)")
        xml.open("resource")
        xml.open(type)
        body(&xml)
        xml.close(type)
        xml.close("resource")
        xml.element("search") { $0.value("mode", "match") }
        xml.close("entry")
    }

    /// Patient: id, identifier, active, name, telecom, gender, birthDate, …, managingOrganization.
    private static func writePatient(
        _ xml: inout FHIRXMLBuffer, _ patient: SyntheticPatient, id: String, provider: SimulatedProviderDefinition
    ) {
        xml.resourceID(id)
        xml.identifier(EntryIdentifier(system: nhsNumberSystem, value: patient.nhsNumber.digits))
        xml.value("active", "true")
        xml.element("name") {
            $0.value("use", "official")
            $0.value("family", patient.familyName)
            $0.value("given", patient.givenName)
        }
        xml.value("gender", patient.gender)
        xml.value("birthDate", patient.birthDate)
        xml.element("managingOrganization") {
            $0.identifier(EntryIdentifier(system: odsSystem, value: provider.odsCode))
            $0.value("display", provider.name)
        }
    }

    private static func write(_ xml: inout FHIRXMLBuffer, _ resource: SimulatedResource, context: ResourceContext) {
        switch resource {
        case .allergy(let value): writeAllergy(&xml, value, context: context)
        case .medicationStatement(let value): writeMedicationStatement(&xml, value, context: context)
        case .medicationRequest(let value): writeMedicationRequest(&xml, value, context: context)
        case .labResult(let value): writeLabResult(&xml, value, context: context)
        case .labReport(let value): writeLabReport(&xml, value, context: context)
        case .observation(let value): writeObservation(&xml, value, context: context)
        case .encounter(let value): writeEncounter(&xml, value, context: context)
        case .appointment(let value): writeAppointment(&xml, value, context: context)
        case .document(let value): writeDocument(&xml, value, context: context)
        case .carePlan(let value): writeCarePlan(&xml, value, context: context)
        case .condition(let value): writeCondition(&xml, value, context: context)
        case .immunisation(let value): writeImmunisation(&xml, value, context: context)
        }
    }
}
