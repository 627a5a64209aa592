import CareRecords
import ProviderFormats
import ProviderSimulator
import Testing

/// A provider may state its documents' encoding only in HTTP (`Content-Type: application/xml;
/// charset=windows-1252`, no XML declaration), as Windows-era systems and integration engines do. Each decoder,
/// told the charset, must read such a document exactly as the same document in UTF-8: every CDA sample, every UK
/// Core example, every simulated mapped export. Before 2026-12-07 the charset was ignored, and any of them with a
/// non-ASCII character was refused as "invalid UTF-8".
@Suite struct TransportCharsetDecodeTests {
    @Test(arguments: SimulatedCharset.allCases)
    func cdaDocumentsDecodeAsInUTF8(_ charset: SimulatedCharset) throws {
        let compared = try RecodedDocuments.cdaSamples(charset.transcode, charset: charset.rawValue)
        // Compared over real content, some of it beyond ASCII.
        #expect(compared.entries > 100)
        #expect(compared.nonASCII > 0)
    }

    @Test(arguments: SimulatedCharset.allCases)
    func ukCoreExamplesDecodeAsInUTF8(_ charset: SimulatedCharset) throws {
        #expect(try RecodedDocuments.ukCoreExamples(charset.transcode, charset: charset.rawValue) > 100)
    }

    @Test(arguments: SimulatedCharset.allCases)
    func mappedExportsDecodeAsInUTF8(_ charset: SimulatedCharset) throws {
        var entries = 0
        for provider in MappedDecoderScopeTests.providers {
            entries += try RecodedDocuments.mappedExports(
                from: provider, patients: 20, charset.transcode, charset: charset.rawValue)
        }
        #expect(entries > 20)
    }

    /// Mixed content is read through libxml2's own tree, a second parse of the same bytes: in the charset too.
    @Test func mixedContentInAMappedExportDecodesInTheCharset() throws {
        let body = """
            <EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1">
            <Patient><NHSNumber>9990001235</NHSNumber></Patient>
            <Incident id="i1"><IncidentNumber>CAS-1</IncidentNumber><CallReceived>2026-01-01T10:00:00Z</CallReceived>
            <Complaint code="1" display="Fall"/><Outcome>Treated <b>on</b> scène</Outcome></Incident></EPCRExport>
            """
        let decoder = MappedXMLDecoder(mapping: try MappedDecoderScopeTests.mapping(SimulatedProviderID.ambulance))
        let latin1 = SimulatedCharset.latin1.transcode(Array(body.utf8))
        #expect(throws: DecodeError.self) { try decoder.decode(latin1, from: SimulatedProviderID.ambulance) }
        let decoded = try decoder.decode(latin1, charset: "ISO-8859-1", from: SimulatedProviderID.ambulance)
        #expect(decoded.entries.first?.summary == "Fall — Treated on scène")
    }
}
