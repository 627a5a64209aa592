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
    let decoders = ReadScopeComparison(
        scoped: CDADecoder(),
        whole: {
            var decoder = CDADecoder()
            decoder.readScope = .everything
            return decoder
        }(), provider: CDAFixtures.provider)

    @Test("all 14 sample documents decode the same as from the whole tree")
    func sampleDocuments() throws {
        var entries = 0
        for name in try CDAFixtures.fileNames() {
            let (same, expected) = decoders.compare(try CDAFixtures.bytes(name))
            #expect(same, "\(name)")
            entries += (try? expected.get().entries.count) ?? 0
        }
        // The comparison is over real content, not over empty records.
        #expect(entries > 100)
    }

    @Test("every simulated CDA provider's response for every patient decodes the same")
    func simulatedResponses() throws {
        var entries = 0
        for provider in [SimulatedProviderID.mhTrustDocuments, SimulatedProviderID.nhs111] {
            entries += try decoders.expectSameOnSimulatedResponses(of: provider)
        }
        #expect(entries > 200)
    }

    @Test("mutated documents decode, or fail, the same")
    func mutatedDocuments() throws {
        decoders.expectSameOnMutations(of: try CDAFuzzTests.fixtures.map(CDAFixtures.bytes), seed: 0x5C0_CDA)
    }

    @Test("a wrapper holding only elements the decoder does not read is still refused, not taken for an empty one")
    func wrapperOfUnreadElements() {
        #expect(throws: DecodeError.self) {
            try decoders.scoped.decode(Array("<documents><count>0</count></documents>".utf8), from: CDAFixtures.provider)
        }
    }
}
