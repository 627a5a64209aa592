import CareRecords
import Foundation
import ProviderFormats
import ProviderSimulator
import Testing

/// XML may come in UTF-16 (Windows and .NET systems write it by default). A provider that sends its documents so
/// must get them read exactly as the same documents in UTF-8: before 2026-12-07 each was refused as "empty
/// document".
@Suite struct UTF16ResponseTests {
    /// `utf8` re-encoded as UTF-16 with a byte order mark, its XML declaration (if any) saying so.
    static func utf16(_ utf8: [UInt8], bigEndian: Bool) -> [UInt8] {
        var text = String(decoding: utf8, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if text.hasPrefix("<?xml"), let end = text.range(of: "?>") {
            let declaration = text[..<end.lowerBound].replacing(/encoding=["'][^"']*["']/, with: #"encoding="UTF-16""#)
            text = String(declaration + text[end.lowerBound...])
        }
        return ([UInt16(0xFEFF)] + Array(text.utf16)).flatMap { unit in
            bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
    }

    @Test(arguments: [false, true])
    func cdaDocumentsDecodeAsInUTF8(bigEndian: Bool) throws {
        var entries = 0
        for name in try CDAFixtures.fileNames() {
            let utf8 = try CDAFixtures.bytes(name)
            let expected = try CDADecoder().decode(utf8, from: CDAFixtures.provider)
            let decoded = try CDADecoder().decode(Self.utf16(utf8, bigEndian: bigEndian), from: CDAFixtures.provider)
            #expect(decoded == expected, "\(name)")
            entries += expected.entries.count
        }
        // Compared over real content, not over empty records.
        #expect(entries > 100)
    }

    @Test(arguments: [false, true])
    func ukCoreExamplesDecodeAsInUTF8(bigEndian: Bool) throws {
        var entries = 0
        for name in try UKCoreExamples.fileNames() {
            let utf8 = try UKCoreExamples.bytes(name)
            let provider = UKCoreExamples.provider
            // An example the decoder refuses (not a resource it reads) must be refused the same way.
            let expected = Result { () throws(DecodeError) in try FHIRR4XMLDecoder().decode(utf8, from: provider) }
            let decoded = Result { () throws(DecodeError) in
                try FHIRR4XMLDecoder().decode(Self.utf16(utf8, bigEndian: bigEndian), from: provider)
            }
            #expect(decoded == expected, "\(name)")
            entries += (try? expected.get().entries.count) ?? 0
        }
        #expect(entries > 100)
    }

    @Test(arguments: MappedDecoderScopeTests.providers)
    func mappedExportsDecodeAsInUTF8(_ provider: ProviderID) throws {
        let decoder = MappedXMLDecoder(mapping: try MappedDecoderScopeTests.mapping(provider))
        let population = SyntheticPopulation.generate()
        let simulator = ProviderSimulator(population: population)
        var entries = 0
        for patient in population.patients {
            guard let utf8 = simulator.body(for: provider, patient: patient.nhsNumber) else { continue }
            let expected = try decoder.decode(utf8, from: provider)
            for bigEndian in [false, true] {
                let decoded = try decoder.decode(Self.utf16(utf8, bigEndian: bigEndian), from: provider)
                #expect(decoded == expected, "\(provider) for patient \(patient.nhsNumber)")
            }
            entries += expected.entries.count
        }
        #expect(entries > 20)
    }

    /// Mixed content is read through libxml2's own tree, parsed apart: it must be read from UTF-16 too.
    @Test func mixedContentInAMappedExportDecodesAsInUTF8() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1">
            <Patient><NHSNumber>9990001235</NHSNumber></Patient>
            <Incident id="i1"><IncidentNumber>CAS-1</IncidentNumber><CallReceived>2026-01-01T10:00:00Z</CallReceived>
            <Complaint code="1" display="Fall"/><Outcome>Treated <b>on</b> scène</Outcome></Incident></EPCRExport>
            """
        let decoder = MappedXMLDecoder(mapping: try MappedDecoderScopeTests.mapping(SimulatedProviderID.ambulance))
        let expected = try decoder.decode(Array(body.utf8), from: SimulatedProviderID.ambulance)
        #expect(expected.entries.first?.summary == "Fall — Treated on scène")
        let decoded = try decoder.decode(Self.utf16(Array(body.utf8), bigEndian: false), from: SimulatedProviderID.ambulance)
        #expect(decoded == expected)
    }
}
