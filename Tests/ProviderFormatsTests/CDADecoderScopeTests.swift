import CareGateFuzzing
import CareRecords
import ProviderFormats
import ProviderSimulator
import Testing
import XMLSupport

/// The CDA decoder builds only the elements and attributes its readers name (`CDADecoder.scope`). These hold
/// that it loses nothing by it: every document decodes to the same record, or fails with the same error, as it
/// does from the whole tree. A reader that reads an element or attribute the scope does not name fails here
/// (for any the sample documents carry: C-CDA's sections, narratives with references, translations, reactions,
/// severities, organizers and negations among them).
@Suite("CDA decoder: its read scope loses nothing")
struct CDADecoderScopeTests {
    let scoped = CDADecoder()
    let whole: CDADecoder = {
        var decoder = CDADecoder()
        decoder.readScope = .everything
        return decoder
    }()

    /// Decodes `bytes` both ways: whether the two agree, and what the whole tree gives.
    private func compare(_ bytes: [UInt8]) -> (same: Bool, expected: Result<DecodedRecord, DecodeError>) {
        func outcome(_ decoder: CDADecoder) -> Result<DecodedRecord, DecodeError> {
            Result { () throws(DecodeError) in try decoder.decode(bytes, from: CDAFixtures.provider) }
        }
        let expected = outcome(whole)
        return (outcome(scoped) == expected, expected)
    }

    @Test("all 14 sample documents decode the same as from the whole tree")
    func sampleDocuments() throws {
        var entries = 0
        for name in try CDAFixtures.fileNames() {
            let (same, expected) = compare(try CDAFixtures.bytes(name))
            #expect(same, "\(name)")
            entries += (try? expected.get().entries.count) ?? 0
        }
        // The comparison is over real content, not over empty records.
        #expect(entries > 100)
    }

    @Test("every simulated CDA provider's response for every patient decodes the same")
    func simulatedResponses() throws {
        let population = SyntheticPopulation.generate()
        let simulator = ProviderSimulator(population: population)
        var entries = 0
        for provider in [SimulatedProviderID.mhTrustDocuments, SimulatedProviderID.nhs111] {
            for patient in population.patients {
                let bytes = try #require(simulator.body(for: provider, patient: patient.nhsNumber))
                let (same, expected) = compare(bytes)
                #expect(same, "\(provider) for patient \(patient.nhsNumber)")
                entries += (try? expected.get().entries.count) ?? 0
            }
        }
        #expect(entries > 200)
    }

    @Test("mutated documents decode, or fail, the same")
    func mutatedDocuments() throws {
        let seeds = try CDAFuzzTests.fixtures.map(CDAFixtures.bytes)
        let mutator = SeededMutator(seed: 0x5C0_CDA)
        var failed = 0
        for iteration in 0..<SeededMutator.iterations {
            let input = mutator.mutation(of: seeds[iteration % seeds.count], iteration: iteration)
            let (same, expected) = compare(input)
            #expect(same, "iteration \(iteration)")
            if case .failure = expected { failed += 1 }
        }
        #expect(failed > 0 && failed < SeededMutator.iterations)
    }

    @Test("a wrapper holding only elements the decoder does not read is still refused, not taken for an empty one")
    func wrapperOfUnreadElements() {
        #expect(throws: DecodeError.self) {
            try scoped.decode(Array("<documents><count>0</count></documents>".utf8), from: CDAFixtures.provider)
        }
    }
}
