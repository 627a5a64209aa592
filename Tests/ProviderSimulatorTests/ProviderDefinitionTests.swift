import CareRecords
import ProviderSimulator
import Testing

@Suite("Provider definitions")
struct ProviderDefinitionTests {
    @Test("the standard providers: six organisations on ports 9101…9106, the trust's two feeds sharing 9101")
    func standardSix() {
        let standard = [SimulatedProviderDefinition].standardSix
        #expect(standard.map(\.id) == SimulatedProviderID.all)
        #expect(standard.map(\.defaultPort) == [9101, 9101, 9102, 9103, 9104, 9105, 9106])
        #expect(standard.map(\.kind) == [.trust, .trust, .gp, .ambulance, .nhs111, .cardiacMonitoring, .careHome])
        #expect(Set(standard.map(\.odsCode)).count == 6)
        #expect(standard[0].odsCode == standard[1].odsCode && standard[0].name == standard[1].name)
        #expect(standard.allSatisfy { ProviderID.isValid($0.id.rawValue) })
        #expect(standard.defaultPorts[SimulatedProviderID.careHome] == 9106)
        #expect(standard.defaultPorts[SimulatedProviderID.mhTrustDocuments] == 9101)
        #expect(standard.map(\.sharesPortWith) == [nil, SimulatedProviderID.mhTrust, nil, nil, nil, nil, nil])
    }

    @Test("each provider speaks its kind's format, at its own path, with the right content type")
    func formatsAndPaths() {
        let expected: [ProviderID: (SimulatedProviderFormat, String, String?)] = [
            SimulatedProviderID.mhTrust: (.fhirR4XML, "/fhir/Patient/{nhs}/$everything", nil),
            SimulatedProviderID.mhTrustDocuments: (.cda, "/cda/Patient/{nhs}/documents", nil),
            SimulatedProviderID.gp: (.fhirR4XML, "/fhir/Patient/{nhs}/$everything", nil),
            SimulatedProviderID.ambulance: (.mappedXML, "/epcr/patients/{nhs}", "ambulance.mapping.yaml"),
            SimulatedProviderID.nhs111: (.cda, "/cda/Patient/{nhs}/documents", nil),
            SimulatedProviderID.cardiac: (.mappedXML, "/monitoring/patients/{nhs}/summary", "cardiac.mapping.yaml"),
            SimulatedProviderID.careHome: (.mappedXML, "/carehome/residents/{nhs}/record", "care-home.mapping.yaml"),
        ]
        for definition in [SimulatedProviderDefinition].standardSix {
            let (format, path, mapping) = expected[definition.id]!
            #expect(definition.format == format, "\(definition.id)")
            #expect(definition.pathTemplate == path, "\(definition.id)")
            #expect(definition.mappingFile == mapping, "\(definition.id)")
            #expect(definition.pathTemplate == SimulatedProviderDefinition.defaultPathTemplate(format: format, kind: definition.kind))
        }
        #expect(SimulatedProviderFormat.fhirR4XML.contentType == "application/fhir+xml; charset=utf-8")
        #expect(SimulatedProviderFormat.cda.contentType == "application/xml; charset=utf-8")
        #expect(SimulatedProviderFormat.mappedXML.contentType == "application/xml; charset=utf-8")
        #expect(SimulatedProviderFormat.allCases.map(\.rawValue) == ["fhir-r4-xml", "cda", "mapped-xml"])
    }

    @Test("a mapping file is named only for mapped-xml, by default after the provider id")
    func mappingDefaults() {
        let bespoke = SimulatedProviderDefinition(
            id: "night-home", name: "Night Home", kind: .careHome, odsCode: "X1", defaultPort: 0, categories: [.allergy],
            format: .mappedXML)
        #expect(bespoke.mappingFile == "night-home.mapping.yaml")
        #expect(bespoke.pathTemplate == "/carehome/residents/{nhs}/record")
        let fhir = SimulatedProviderDefinition(
            id: "gp2", name: "GP 2", kind: .gp, odsCode: "X2", defaultPort: 0, categories: [.allergy],
            mappingFile: "ignored.mapping.yaml")
        #expect(fhir.mappingFile == nil)
        #expect(fhir.path(for: try! NHSNumber("9434765919")) == "/fhir/Patient/9434765919/$everything")
    }

    /// The provider file's keys (comments dropped), its `key: value` lines, and its categories.
    private func read(_ yaml: String) -> (keys: [String], lines: [String], categories: [String]) {
        let lines = yaml.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        let keys = lines.filter { !$0.hasPrefix(" ") }.compactMap { $0.split(separator: ":").first.map(String.init) }
        let categories = lines.filter { $0.hasPrefix("  - ") }.map { String($0.dropFirst(4)) }
        return (keys, lines, categories)
    }

    @Test("the provider file of every standard provider has the keys the gateway reads, its format, mapping and URL")
    func yamlForEveryDefinition() {
        for definition in [SimulatedProviderDefinition].standardSix {
            let yaml = definition.providerDefinitionYAML(port: definition.defaultPort)
            let (keys, lines, categories) = read(yaml)
            let mapped = definition.format == .mappedXML
            #expect(
                keys == ["id", "name", "kind", "ods", "format"] + (mapped ? ["mapping", "schema"] : [])
                    + ["url", "timeout_ms", "categories"],
                "\(definition.id)")
            #expect(lines.contains("id: \(definition.id)"))
            #expect(lines.contains("format: \(definition.format.rawValue)"))
            #expect(lines.contains("url: \"http://127.0.0.1:\(definition.defaultPort)\(definition.pathTemplate)\""))
            if mapped {
                #expect(lines.contains("mapping: \(definition.id).mapping.yaml"))
                #expect(lines.contains { $0.hasPrefix("schema: ../schemas/") && $0.hasSuffix(".xsd") })
            }
            #expect(categories == definition.categories.map(\.rawValue))
            #expect(!categories.isEmpty && categories.allSatisfy { EntryCategory(rawValue: $0) != nil })
        }
    }

    @Test("the GP's provider file, line by line")
    func gpYAML() {
        let yaml = SimulatedProviderDefinition.gpPractice.providerDefinitionYAML(port: 9102)
        #expect(yaml == """
            # Simulated provider (CareGate ProviderSimulator): synthetic data only.
            id: gp
            name: "Ladywell Green Medical Practice"
            kind: gp
            ods: "Y99901"
            format: fhir-r4-xml
            url: "http://127.0.0.1:9102/fhir/Patient/{nhs}/$everything"
            timeout_ms: 800
            categories:
              - appointment
              - medication
              - allergy
              - test-result
              - condition
              - immunisation

            """)
    }

    @Test("the ambulance's and the trust documents' provider files, line by line")
    func bespokeAndCDAYAML() {
        #expect(SimulatedProviderDefinition.ambulanceService.providerDefinitionYAML(port: 9103) == """
            # Simulated provider (CareGate ProviderSimulator): synthetic data only.
            id: ambulance
            name: "Capital Ambulance Service NHS Trust"
            kind: ambulance
            ods: "R9A"
            format: mapped-xml
            mapping: ambulance.mapping.yaml
            schema: ../schemas/ambulance-epcr.xsd
            url: "http://127.0.0.1:9103/epcr/patients/{nhs}"
            timeout_ms: 800
            categories:
              - encounter
              - medication
              - observation

            """)
        #expect(SimulatedProviderDefinition.mentalHealthTrustDocuments.providerDefinitionYAML(port: 9101) == """
            # Simulated provider (CareGate ProviderSimulator): synthetic data only.
            id: mh-trust-documents
            name: "Thameside Mental Health NHS Foundation Trust"
            kind: trust
            ods: "R9T"
            format: cda
            url: "http://127.0.0.1:9101/cda/Patient/{nhs}/documents"
            timeout_ms: 800
            categories:
              - medication
              - allergy
              - document
              - condition

            """)
    }

    @Test("names with quotes are escaped in the provider file, and an odd mapping file name is quoted")
    func yamlQuoting() {
        var definition = SimulatedProviderDefinition.careHome
        definition.name = "St \"Mary's\" Home"
        #expect(definition.providerDefinitionYAML(port: 1).contains("name: \"St \\\"Mary's\\\" Home\""))
        definition.mappingFile = "homes: mary.yaml"
        #expect(definition.providerDefinitionYAML(port: 1).contains("mapping: \"homes: mary.yaml\""))
    }
}
