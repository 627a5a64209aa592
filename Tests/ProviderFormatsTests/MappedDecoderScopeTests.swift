import CareRecords
import Foundation
import ProviderFormats
import ProviderSimulator
import Providers
import Testing
import XMLSupport

/// The mapped decoder parses only what its mapping's expressions can reach (`XMLMapping.readScope`). These hold
/// that it loses nothing by it, for the three shipped mappings: every simulated response, and mutations of them,
/// decode to the same record (or fail with the same error) as from the whole tree.
@Suite("Mapped decoder: its read scope loses nothing")
struct MappedDecoderScopeTests {
    static let providers = [SimulatedProviderID.ambulance, SimulatedProviderID.cardiac, SimulatedProviderID.careHome]

    /// The shipped mapping file of `provider` (`providers/<id>.mapping.yaml`).
    static func mapping(_ provider: ProviderID) throws -> XMLMapping {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("providers/\(provider.rawValue).mapping.yaml")
        return try XMLMapping(yaml: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
    }

    static func decoders(_ provider: ProviderID) throws -> ReadScopeComparison<MappedXMLDecoder> {
        let mapping = try mapping(provider)
        return ReadScopeComparison(
            scoped: MappedXMLDecoder(mapping: mapping),
            whole: MappedXMLDecoder(mapping: mapping, readScope: .everything), provider: provider)
    }

    @Test(arguments: providers)
    func theShippedMappingNarrowsTheParse(_ provider: ProviderID) throws {
        let scope = try Self.mapping(provider).readScope
        // Every expression of the shipped mappings is in the subset, so the comparisons below are not vacuous.
        #expect(!scope.keepsEverything)
        #expect(scope.sourcePositions)
    }

    @Test(arguments: providers)
    func everySimulatedResponseDecodesTheSame(_ provider: ProviderID) throws {
        let entries = try Self.decoders(provider).expectSameOnSimulatedResponses(of: provider)
        // Over real content: few patients wear a cardiac monitor, but every mapping yields dozens of entries.
        #expect(entries > 20)
    }

    @Test(arguments: providers)
    func mutatedResponsesDecodeOrFailTheSame(_ provider: ProviderID) throws {
        let population = SyntheticPopulation.generate()
        let simulator = ProviderSimulator(population: population)
        let seeds = population.patients.prefix(8).compactMap { simulator.body(for: provider, patient: $0.nhsNumber) }
        try Self.decoders(provider).expectSameOnMutations(of: seeds, seed: 0x5C0_3A9)
    }

    /// Text mixed with elements in a field, after elements the scope leaves out: the libxml2 fallback must find
    /// the same record in its own tree.
    @Test func mixedContentAfterLeftOutElementsDecodesTheSame() throws {
        let body = """
            <EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1"><Service ods="R9A">Capital</Service>
            <Patient><NHSNumber>9990001235</NHSNumber><GivenName>Ann</GivenName></Patient>
            <Incident id="i1"><IncidentNumber>CAS-1</IncidentNumber><Cleared>2026-01-01T10:00:00Z</Cleared>
            <Complaint code="1" display="Fall"/><Outcome>Treated <b>on</b> scene<RecordedBy>x</RecordedBy></Outcome>
            </Incident></EPCRExport>
            """
        let decoders = try Self.decoders(SimulatedProviderID.ambulance)
        let (same, expected) = decoders.compare(Array(body.utf8))
        #expect(same)
        #expect(try expected.get().entries.first?.summary == "Fall — Treated on scenex")
    }
}
