import CareRecords
import ProviderSimulator
import Testing

@Suite("Provider definitions")
struct ProviderDefinitionTests {
    @Test("the standard six have distinct ids, kinds and demo ports 9101…9106 in order")
    func standardSix() {
        let six = [SimulatedProviderDefinition].standardSix
        #expect(six.map(\.id) == SimulatedProviderID.all)
        #expect(six.map(\.defaultPort) == Array(9101...9106))
        #expect(six.map(\.kind) == [.trust, .gp, .ambulance, .nhs111, .cardiacMonitoring, .careHome])
        #expect(Set(six.map(\.odsCode)).count == 6)
        #expect(six.allSatisfy { ProviderID.isValid($0.id.rawValue) })
        #expect(six.defaultPorts[SimulatedProviderID.careHome] == 9106)
    }

    @Test("the provider file has exactly the keys the gateway reads, with the URL template and categories")
    func yaml() {
        let yaml = SimulatedProviderDefinition.gpPractice.providerDefinitionYAML(port: 9102)
        let lines = yaml.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        let keys = lines.filter { !$0.hasPrefix(" ") }.compactMap { $0.split(separator: ":").first.map(String.init) }
        #expect(keys == ["id", "name", "kind", "ods", "format", "url", "timeout_ms", "categories"])
        #expect(lines.contains("id: gp"))
        #expect(lines.contains("kind: gp"))
        #expect(lines.contains("format: fhir-r4-xml"))
        #expect(lines.contains("url: \"http://127.0.0.1:9102/fhir/Patient/{nhs}/$everything\""))
        #expect(lines.contains("timeout_ms: 800"))
        let categories = lines.filter { $0.hasPrefix("  - ") }.map { String($0.dropFirst(4)) }
        #expect(categories == ["appointment", "medication", "allergy", "test-result", "condition", "immunisation"])
        #expect(categories.allSatisfy { EntryCategory(rawValue: $0) != nil })
    }

    @Test("names with quotes are escaped in the provider file")
    func yamlQuoting() {
        var definition = SimulatedProviderDefinition.careHome
        definition.name = "St \"Mary's\" Home"
        #expect(definition.providerDefinitionYAML(port: 1).contains("name: \"St \\\"Mary's\\\" Home\""))
    }
}
