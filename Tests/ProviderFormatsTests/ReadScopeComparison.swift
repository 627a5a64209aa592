import CareGateFuzzing
import CareRecords
import ProviderFormats
import ProviderSimulator
import Testing

/// One decoder two ways, for the tests that hold a read scope to losing nothing: with its scope, and widened to
/// the whole tree (`XMLReadScope.everything`).
struct ReadScopeComparison<Decoder: RecordDecoder> {
    let scoped: Decoder
    let whole: Decoder
    let provider: ProviderID

    /// Decodes `bytes` both ways: whether the two agree (a Bool, as the two records in a failure message would
    /// bury the document's name), and what the whole tree gives.
    func compare(_ bytes: [UInt8]) -> (same: Bool, expected: Result<DecodedRecord, DecodeError>) {
        func outcome(_ decoder: Decoder) -> Result<DecodedRecord, DecodeError> {
            Result { () throws(DecodeError) in try decoder.decode(bytes, from: provider) }
        }
        let expected = outcome(whole)
        return (outcome(scoped) == expected, expected)
    }

    /// Holds the two equal on every patient's response from the simulated provider `feed`; returns how many
    /// entries the whole tree gave, for the caller to check the comparison was over real content.
    func expectSameOnSimulatedResponses(of feed: ProviderID) throws -> Int {
        let population = SyntheticPopulation.generate()
        let simulator = ProviderSimulator(population: population)
        var entries = 0
        for patient in population.patients {
            let bytes = try #require(simulator.body(for: feed, patient: patient.nhsNumber))
            let (same, expected) = compare(bytes)
            #expect(same, "\(feed) for patient \(patient.nhsNumber)")
            entries += (try? expected.get().entries.count) ?? 0
        }
        return entries
    }

    /// Holds the two equal on mutations of `seeds`, and checks that the mutations exercised both outcomes (some
    /// documents failing, not all).
    func expectSameOnMutations(of seeds: [[UInt8]], seed: UInt64) {
        let mutator = SeededMutator(seed: seed)
        var failed = 0
        for iteration in 0..<SeededMutator.iterations {
            let input = mutator.mutation(of: seeds[iteration % seeds.count], iteration: iteration)
            let (same, expected) = compare(input)
            #expect(same, "iteration \(iteration)")
            if case .failure = expected { failed += 1 }
        }
        #expect(failed > 0 && failed < SeededMutator.iterations)
    }
}
