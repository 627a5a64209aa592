import CareGateFuzzing
import CareRecords
import ProviderFormats
import ProviderSimulator
import Testing
import XMLSupport

/// The FHIR decoder builds only the elements its readers name (`FHIRR4XMLDecoder.scope`). These hold that it
/// loses nothing by it: every document decodes to the same record, or fails with the same error, as it does
/// from the whole tree. A reader that reads an element the scope does not name fails here (for any element
/// these documents carry).
@Suite("FHIR decoder: its read scope loses nothing")
struct FHIRDecoderScopeTests {
    let decoders = ReadScopeComparison(
        scoped: FHIRR4XMLDecoder(),
        whole: {
            var decoder = FHIRR4XMLDecoder()
            decoder.readScope = .everything
            return decoder
        }(), provider: UKCoreExamples.provider)

    @Test("all 215 UK Core examples decode the same as from the whole tree")
    func ukCoreExamples() throws {
        var entries = 0
        for name in try UKCoreExamples.fileNames() {
            let bytes = try UKCoreExamples.bytes(name)
            let (same, expected) = decoders.compare(bytes)
            #expect(same, "\(name)")
            entries += (try? expected.get().entries.count) ?? 0
        }
        // The comparison is over real content, not over empty records.
        #expect(entries > 100)
    }

    @Test("every simulated FHIR provider's bundle for every patient decodes the same")
    func simulatedBundles() {
        let population = SyntheticPopulation.generate()
        let simulator = ProviderSimulator(population: population)
        var entries = 0
        var patients = 0
        for provider in [SimulatedProviderID.mhTrust, SimulatedProviderID.gp] {
            for patient in population.patients {
                let bytes = simulator.bundle(for: provider, patient: patient.nhsNumber)
                let (same, expected) = decoders.compare(bytes)
                #expect(same, "\(provider) for patient \(patient.nhsNumber)")
                entries += (try? expected.get().entries.count) ?? 0
                if (try? expected.get().patient) != nil { patients += 1 }
            }
        }
        #expect(entries > 500)
        #expect(patients > 60)
    }

    @Test("mutated documents decode, or fail, the same")
    func mutatedDocuments() throws {
        let seeds = try [
            "UKCore-Bundle-AllergyList-Example.xml",
            "UKCore-Observation-Group-FullBloodCount-Example.xml",
        ]
        .map(UKCoreExamples.bytes)
        decoders.expectSameOnMutations(of: seeds, seed: 0x5C0_BE)
    }
}
