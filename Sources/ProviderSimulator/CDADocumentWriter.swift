import CareRecords

/// Writes a CDA provider's answer to `GET /cda/Patient/{nhs}/documents`: every document it holds for the patient as
/// an HL7 CDA R2 `ClinicalDocument`, oldest first, wrapped in one `Documents` element of the simulator's own
/// namespace (`urn:caregate:simulator:documents:1`). A patient the provider does not know gets an empty wrapper.
///
/// Each `ClinicalDocument` declares its own namespaces, so its bytes cut out of the wrapper are a complete document,
/// valid against `CDA_SDTC.xsd` (`schemas/cda-r2-sdtc/`), which fixes element order; each part lists its type's
/// order in its doc comment.
///
/// Identifiers use the NHS's OIDs where they exist (NHS number, ODS code, dm+d) and fictional ones under the
/// ISO/ITU-T example arc `2.999` otherwise: `2.999.0.*` for document templates, `2.999.K.*` for each provider kind's
/// own ids (see `IdentifierRoots`).
enum CDADocumentWriter {
    static let wrapperNamespace = "urn:caregate:simulator:documents:1"
    static let hl7Namespace = "urn:hl7-org:v3"
    static let xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

    enum OID {
        static let nhsNumber = "2.16.840.1.113883.2.1.4.1"
        static let ods = "2.16.840.1.113883.2.1.3.2.4.19.1"
        static let hl7CDATypeID = "2.16.840.1.113883.1.3"
        static let loinc = "2.16.840.1.113883.6.1"
        static let snomedCT = "2.16.840.1.113883.6.96"
        static let dmd = "1.2.826.0.1285.0.2.0.4"
        static let confidentiality = "2.16.840.1.113883.5.25"
        static let administrativeGender = "2.16.840.1.113883.5.1"
        static let actCode = "2.16.840.1.113883.5.4"
    }

    /// The roots of one provider's own identifiers, each an arc under `2.999.K` for the provider's kind.
    struct IdentifierRoots {
        let base: String

        init(kind: ProviderKind) {
            let number =
                switch kind {
                case .trust: 1
                case .nhs111: 2
                case .gp: 3
                case .ambulance: 4
                case .cardiacMonitoring: 5
                case .careHome: 6
                case .gateway: 7
                }
            base = "2.999.\(number)"
        }

        var documents: String { base + ".1" }
        var encounters: String { base + ".2" }
        var medicationOrders: String { base + ".3" }
        var allergies: String { base + ".4" }
        var problems: String { base + ".5" }
        var staff: String { base + ".6" }
    }

    static func documents(provider: SimulatedProviderDefinition, patient: SyntheticPatient?) -> [UInt8] {
        var xml = XMLWriter(capacity: 8192)
        xml.declaration()
        xml.open("Documents", ["xmlns": wrapperNamespace])
        if let patient {
            let documents = patient.resources(at: provider.id).compactMap {
                if case .document(let document) = $0 { document } else { nil }
            }
            // Sorting by the instant's text is chronological: every time is UTC in the same layout.
            for document in documents.enumerated().sorted(by: { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }) {
                clinicalDocument(&xml, document.element, patient: patient, provider: provider)
            }
        }
        xml.close("Documents")
        return xml.bytes
    }

    /// ClinicalDocument: realmCode, typeId, templateId, id, code, title, effectiveTime, confidentialityCode,
    /// languageCode, setId, versionNumber, copyTime, recordTarget, author, dataEnterer, informant, custodian, …,
    /// componentOf, component.
    static func clinicalDocument(
        _ xml: inout XMLWriter, _ document: SimulatedDocument, patient: SyntheticPatient,
        provider: SimulatedProviderDefinition
    ) {
        let roots = IdentifierRoots(kind: provider.kind)
        xml.open(
            "ClinicalDocument", ["xmlns": hl7Namespace, "xmlns:xsi": xsiNamespace, "classCode": "DOCCLIN", "moodCode": "EVN"])
        xml.empty("realmCode", ["code": "GB"])
        xml.empty("typeId", ["root": OID.hl7CDATypeID, "extension": "POCD_HD000040"])
        xml.empty("templateId", ["root": templateID(for: document.type)])
        xml.empty("id", ["root": roots.documents, "extension": document.id])
        xml.coded("code", document.type)
        xml.text("title", document.title)
        xml.empty("effectiveTime", ["value": timestamp(document.date)])
        xml.empty("confidentialityCode", ["code": "N", "codeSystem": OID.confidentiality, "displayName": "normal"])
        xml.empty("languageCode", ["code": "en-GB"])
        recordTarget(&xml, patient)
        author(&xml, name: document.author, time: document.date, provider: provider, roots: roots)
        custodian(&xml, provider)
        if let encounter = document.encounter {
            // EncompassingEncounter: id, code, effectiveTime, dischargeDispositionCode, responsibleParty, ….
            // NHS 111 codes a call by why the caller rang; the trust codes a stay or contact by its type.
            xml.element("componentOf") {
                $0.element("encompassingEncounter") {
                    $0.empty("id", ["root": roots.encounters, "extension": encounter.id])
                    $0.coded("code", provider.kind == .nhs111 ? (encounter.reason ?? encounter.type) : encounter.type)
                    $0.element("effectiveTime") {
                        $0.empty("low", ["value": timestamp(encounter.start)])
                        if let end = encounter.end { $0.empty("high", ["value": timestamp(end)]) }
                    }
                }
            }
        }
        xml.element("component") {
            $0.element("structuredBody") {
                writeSections(&$0, document, provider: provider, roots: roots)
            }
        }
        xml.close("ClinicalDocument")
    }

    /// RecordTarget/PatientRole: id, addr, telecom, patient (name, administrativeGenderCode, birthTime, …).
    private static func recordTarget(_ xml: inout XMLWriter, _ patient: SyntheticPatient) {
        xml.element("recordTarget") {
            $0.element("patientRole") {
                $0.empty("id", ["root": OID.nhsNumber, "extension": patient.nhsNumber.digits])
                $0.element("patient") {
                    $0.element("name") {
                        $0.text("given", patient.givenName)
                        $0.text("family", patient.familyName)
                    }
                    let female = patient.gender == "female"
                    $0.empty(
                        "administrativeGenderCode",
                        ["code": female ? "F" : "M", "codeSystem": OID.administrativeGender,
                         "displayName": female ? "Female" : "Male"])
                    $0.empty("birthTime", ["value": timestamp(patient.birthDate)])
                }
            }
        }
    }

    /// Author: time, assignedAuthor (id, …, assignedPerson, representedOrganization). An author who is the
    /// organisation itself (NHS 111) has no person.
    static func author(
        _ xml: inout XMLWriter, name: String, time: String, provider: SimulatedProviderDefinition,
        roots: IdentifierRoots
    ) {
        xml.element("author") {
            $0.empty("time", ["value": timestamp(time)])
            $0.element("assignedAuthor") {
                $0.empty("id", ["root": roots.staff, "extension": slug(name)])
                if name != provider.name {
                    $0.element("assignedPerson") { $0.element("name") { $0.characters(name) } }
                }
                $0.element("representedOrganization") {
                    $0.empty("id", ["root": OID.ods, "extension": provider.odsCode])
                    $0.text("name", provider.name)
                }
            }
        }
    }

    /// Custodian/AssignedCustodian/CustodianOrganization: id, name, ….
    private static func custodian(_ xml: inout XMLWriter, _ provider: SimulatedProviderDefinition) {
        xml.element("custodian") {
            $0.element("assignedCustodian") {
                $0.element("representedCustodianOrganization") {
                    $0.empty("id", ["root": OID.ods, "extension": provider.odsCode])
                    $0.text("name", provider.name)
                }
            }
        }
    }

    private static func templateID(for type: Coding) -> String {
        switch type {
        case ClinicalCatalogue.dischargeSummary: "2.999.0.1"
        case ClinicalCatalogue.consultNote: "2.999.0.2"
        case ClinicalCatalogue.telephoneNote: "2.999.0.3"
        default: "2.999.0.9"
        }
    }

    /// A FHIR date or dateTime (`2026-03-05`, `2026-03-05T14:30:00Z`) as an HL7 TS (`20260305`,
    /// `20260305143000+0000`). The simulator writes every time in UTC.
    static func timestamp(_ fhir: String) -> String {
        let digits = fhir.prefix(19).filter(\.isNumber)
        return digits.count > 8 ? digits + "+0000" : String(digits)
    }

    /// A name as an identifier's extension: `Dr A Okonjo` → `dr-a-okonjo`.
    static func slug(_ name: String) -> String {
        var result = ""
        for character in name.lowercased() {
            if character.isLetter || character.isNumber {
                result.append(character)
            } else if !result.isEmpty && result.last != "-" {
                result.append("-")
            }
        }
        while result.last == "-" { result.removeLast() }
        return result
    }

    /// The OID and name CDA uses for a FHIR code system URI; nil for a local system with no OID.
    static func codeSystem(_ system: String?) -> (oid: String, name: String)? {
        switch system {
        case Coding.System.snomedCT: (OID.snomedCT, "SNOMED CT")
        case Coding.System.loinc: (OID.loinc, "LOINC")
        case Coding.System.dmd: (OID.dmd, "dm+d")
        default: nil
        }
    }
}

extension XMLWriter {
    /// A CD/CE element: `<name code="…" codeSystem="OID" codeSystemName="…" displayName="…"/>`, with an
    /// `xsi:type` where the schema's type is abstract (an observation's `value`).
    mutating func coded(_ name: String, _ coding: Coding, xsiType: String? = nil) {
        let system = CDADocumentWriter.codeSystem(coding.system)
        empty(
            name,
            ["xsi:type": xsiType, "code": coding.code, "codeSystem": system?.oid, "codeSystemName": system?.name,
             "displayName": coding.display])
    }
}
