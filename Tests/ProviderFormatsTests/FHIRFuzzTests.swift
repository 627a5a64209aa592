import CareGateFuzzing
import CareRecords
import ProviderFormats
import Testing

/// Seeded random mutations of real FHIR documents: the decoder must never crash, must answer with entries or a
/// DecodeError, and its error text must never quote the document.
@Suite struct FHIRFuzzTests {
    static let marker = "ZZMARKERDRUG"

    @Test func mutatedDocumentsDecodeOrFailCleanly() throws {
        let names = ["UKCore-AllergyIntolerance-Amoxicillin-Example.xml", "UKCore-Bundle-AllergyList-Example.xml"]
        var seeds = try names.map { name in
            let text = String(decoding: try UKCoreExamples.bytes(name), as: UTF8.self)
            return Array(text.replacingOccurrences(of: "<id value=\"", with: "<id value=\"\(Self.marker)").utf8)
        }
        seeds.append(Array(Self.bundle.utf8))

        let mutator = SeededMutator(seed: 0xFA57_F00D)
        let decoder = FHIRR4XMLDecoder()
        var decoded = 0
        var refused = 0
        for iteration in 0..<SeededMutator.iterations {
            let input = mutator.mutation(of: seeds[iteration % seeds.count], iteration: iteration)
            do {
                _ = try decoder.decode(input, from: "fuzz")
                decoded += 1
            } catch {
                refused += 1
                #expect(!error.description.contains(Self.marker), "iteration \(iteration) quoted the document")
            }
        }
        // Both paths were exercised, so the mutations are neither all harmless nor all fatal.
        #expect(decoded > 0)
        #expect(refused > 0)
    }

    static let bundle = """
        <Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/>
        <entry><resource><MedicationStatement><id value="\(marker)1"/><status value="active"/>
        <medicationCodeableConcept><coding><system value="https://dmd.nhs.uk"/><code value="39720311000001101"/>
        <display value="Paracetamol 500mg tablets"/></coding></medicationCodeableConcept>
        <subject><reference value="Patient/1"/></subject><dosage><text value="Two tablets four times a day"/></dosage>
        </MedicationStatement></resource></entry></Bundle>
        """
}
