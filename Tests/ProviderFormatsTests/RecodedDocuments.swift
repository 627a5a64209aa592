import CareRecords
import ProviderFormats
import ProviderSimulator
import Testing

/// Real documents in another encoding must decode exactly as in UTF-8: each reference CDA sample, each UK Core
/// example and each simulated mapped export, re-encoded by `recode` and read with `charset` (what an HTTP
/// `Content-Type` would say). Each function records an issue per document that differs, and returns how many
/// entries were compared, so a caller can check it compared real content rather than empty records.
enum RecodedDocuments {
    typealias Recode = ([UInt8]) -> [UInt8]

    static func cdaSamples(_ recode: Recode, charset: String? = nil) throws -> (entries: Int, nonASCII: Int) {
        var (entries, nonASCII) = (0, 0)
        for name in try CDAFixtures.fileNames() {
            let utf8 = try CDAFixtures.bytes(name)
            let expected = try CDADecoder().decode(utf8, from: CDAFixtures.provider)
            let decoded = try CDADecoder().decode(recode(utf8), charset: charset, from: CDAFixtures.provider)
            #expect(decoded == expected, "\(name)")
            entries += expected.entries.count
            if utf8.contains(where: { $0 >= 0x80 }) { nonASCII += 1 }
        }
        return (entries, nonASCII)
    }

    /// An example the decoder refuses (not a resource it reads) must be refused the same way.
    static func ukCoreExamples(_ recode: Recode, charset: String? = nil) throws -> Int {
        var entries = 0
        for name in try UKCoreExamples.fileNames() {
            let utf8 = try UKCoreExamples.bytes(name)
            let provider = UKCoreExamples.provider
            let expected = Result { () throws(DecodeError) in try FHIRR4XMLDecoder().decode(utf8, from: provider) }
            let decoded = Result { () throws(DecodeError) in
                try FHIRR4XMLDecoder().decode(recode(utf8), charset: charset, from: provider)
            }
            #expect(decoded == expected, "\(name)")
            entries += (try? expected.get().entries.count) ?? 0
        }
        return entries
    }

    /// The first `patients` patients' exports from `provider`, a simulated bespoke-XML provider.
    static func mappedExports(
        from provider: ProviderID, patients: Int = .max, _ recode: Recode, charset: String? = nil
    ) throws -> Int {
        let decoder = MappedXMLDecoder(mapping: try MappedDecoderScopeTests.mapping(provider))
        let population = SyntheticPopulation.generate()
        let simulator = ProviderSimulator(population: population)
        var entries = 0
        for patient in population.patients.prefix(patients) {
            guard let utf8 = simulator.body(for: provider, patient: patient.nhsNumber) else { continue }
            let expected = try decoder.decode(utf8, from: provider)
            let decoded = try decoder.decode(recode(utf8), charset: charset, from: provider)
            #expect(decoded == expected, "\(provider) for patient \(patient.nhsNumber)")
            entries += expected.entries.count
        }
        return entries
    }
}
