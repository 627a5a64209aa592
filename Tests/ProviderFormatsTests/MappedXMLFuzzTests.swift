import CareGateFuzzing
import CareRecords
import ProviderFormats
import Testing
import XMLSupport

/// Seeded random mutations of bespoke XML through a mapping: the decoder must never crash, must answer with
/// entries or a DecodeError, and its error text must never quote the document.
///
/// Runs `SeededMutator.iterations` mutations of each seed document (3 × 1,000 by default, a few seconds); set
/// `CAREGATE_FUZZ_ITERATIONS` to run longer, e.g. `CAREGATE_FUZZ_ITERATIONS=100000 swift test --filter Fuzz`.
@Suite struct MappedXMLFuzzTests {
    static let seed: UInt64 = 0x3A9F_0E7C_5EED_0001
    static let marker = "ZZMARKERINCIDENT"

    static let seeds: [String] = [
        MappedAmbulanceExport.xml.replacingOccurrences(of: "id=\"", with: "id=\"\(marker)"),
        """
        <a:EPCRExport xmlns:a="urn:caregate:example:ambulance-epcr:1"><a:Patient><a:NHSNumber>9990001235</a:NHSNumber>
        </a:Patient><a:Incident id="\(marker)1"><a:Type code="1" display="\(marker) &amp; &#x41;"/><a:Status><![CDATA[
        \(marker)]]></a:Status><a:DrugsGiven><a:Drug id="\(marker)2"><a:Dose>1</a:Dose></a:Drug></a:DrugsGiven>
        </a:Incident></a:EPCRExport>
        """,
        """
        <EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1"><Incident id="\(marker)3"><Observations>
        <Vital id="\(marker)4"><Value>1.5</Value><Unit>mmol/L</Unit><Taken>2026-01-01</Taken></Vital>
        <Score><Value>\(marker)</Value></Score></Observations></Incident></EPCRExport>
        """,
    ]

    @Test func mutatedDocumentsDecodeOrFailCleanly() throws {
        let mutator = SeededMutator(seed: Self.seed)
        let decoder = try MappedXMLDecoder(mapping: MappedAmbulanceExport.mapping())
        let documents = Self.seeds.map { Array($0.utf8) }
        var decoded = 0
        var refused = 0
        for iteration in 0..<(SeededMutator.iterations * documents.count) {
            let input = mutator.mutation(of: documents[iteration % documents.count], iteration: iteration)
            do {
                let record = try decoder.decode(input, from: "fuzz")
                #expect(record.entries.allSatisfy { $0.source.provider == "fuzz" }, "iteration \(iteration)")
                decoded += 1
            } catch {
                refused += 1
                // Typed throws: the only error is a DecodeError, and no error may quote the document (an
                // unexpected root's names are echoed only when they are well-known or plain).
                #expect(!error.description.contains(Self.marker), "iteration \(iteration) quoted the document")
            }
        }
        #expect(decoded > 0)
        #expect(refused > 0)
    }
}
