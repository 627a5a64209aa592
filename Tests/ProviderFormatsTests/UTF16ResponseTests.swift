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
        let compared = try RecodedDocuments.cdaSamples { Self.utf16($0, bigEndian: bigEndian) }
        // Compared over real content, not over empty records.
        #expect(compared.entries > 100)
    }

    @Test(arguments: [false, true])
    func ukCoreExamplesDecodeAsInUTF8(bigEndian: Bool) throws {
        #expect(try RecodedDocuments.ukCoreExamples { Self.utf16($0, bigEndian: bigEndian) } > 100)
    }

    @Test(arguments: MappedDecoderScopeTests.providers)
    func mappedExportsDecodeAsInUTF8(_ provider: ProviderID) throws {
        for bigEndian in [false, true] {
            #expect(try RecodedDocuments.mappedExports(from: provider) { Self.utf16($0, bigEndian: bigEndian) } > 20)
        }
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
