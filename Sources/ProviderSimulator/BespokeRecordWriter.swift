import CareRecords

/// Writes the bespoke XML of the provider kinds whose systems have no standard interface: the ambulance service's
/// ePCR export, the cardiac monitoring service's summary and the care home's resident record. Each has its own
/// namespace and schema (`schemas/ambulance-epcr.xsd`, `cardiac-monitoring.xsd`, `care-home.xsd`, which fix element
/// order), and the gateway reads each through a mapping file (`providers/<id>.mapping.yaml`).
///
/// Conventions shared by the three, so one mapping style fits all: a record's own id is its `id` attribute; a
/// coded value is an element with `code` and `display` attributes (and `system` for a local code system); times are
/// `xs:dateTime` in UTC and dates `xs:date`, both ISO 8601 as FHIR writes them; quantities are decimal text with the
/// UCUM unit beside them. A patient the provider does not know gets the root element with the organisation only.
enum BespokeRecordWriter {
    /// The bespoke formats, one per provider kind that has one.
    enum Layout {
        case ambulanceEPCR
        case cardiacMonitoring
        case careHome

        init?(kind: ProviderKind) {
            switch kind {
            case .ambulance: self = .ambulanceEPCR
            case .cardiacMonitoring: self = .cardiacMonitoring
            case .careHome: self = .careHome
            case .trust, .gp, .nhs111, .gateway: return nil
            }
        }

        var namespace: String {
            switch self {
            case .ambulanceEPCR: "urn:caregate:example:ambulance-epcr:1"
            case .cardiacMonitoring: "urn:caregate:example:cardiac-monitoring:1"
            case .careHome: "urn:caregate:example:care-home:1"
            }
        }
    }

    static func record(_ layout: Layout, provider: SimulatedProviderDefinition, patient: SyntheticPatient?) -> [UInt8] {
        let known = patient.flatMap { $0.isKnown(to: provider.id) ? $0 : nil }
        var xml = XMLWriter(capacity: 8192)
        xml.declaration()
        switch layout {
        case .ambulanceEPCR: ambulanceExport(&xml, provider: provider, patient: known)
        case .cardiacMonitoring: monitoringSummary(&xml, provider: provider, patient: known)
        case .careHome: residentRecord(&xml, provider: provider, patient: known)
        }
        return xml.bytes
    }

    /// The organisation, as `<name ods="…">display name</name>`.
    static func organisation(_ xml: inout XMLWriter, _ name: String, _ provider: SimulatedProviderDefinition) {
        xml.text(name, provider.name, ["ods": provider.odsCode])
    }

    /// Patient demographics: NHSNumber, GivenName, FamilyName, BirthDate, Sex.
    static func demographics(_ xml: inout XMLWriter, _ name: String, _ patient: SyntheticPatient) {
        xml.element(name) {
            $0.text("NHSNumber", patient.nhsNumber.digits)
            $0.text("GivenName", patient.givenName)
            $0.text("FamilyName", patient.familyName)
            $0.text("BirthDate", patient.birthDate)
            $0.text("Sex", patient.gender)
        }
    }

    /// `<name code="…" display="…"/>`, with `system` only for a code system the schema does not imply.
    static func coded(_ xml: inout XMLWriter, _ name: String, _ coding: Coding, impliedSystem: String) {
        xml.empty(
            name,
            ["code": coding.code, "system": coding.system == impliedSystem ? nil : coding.system, "display": coding.display])
    }
}
