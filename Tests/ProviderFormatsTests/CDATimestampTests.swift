import CareRecords
import ProviderFormats
import Testing

/// HL7 v3 TS, as CDA writes every time, read as the ISO 8601 the rest of CareGate uses.
@Suite("CDA: HL7 timestamps")
struct CDATimestampTests {
    @Test(
        "valid timestamps convert",
        arguments: [
            ("20240501143000+0100", "2024-05-01T14:30:00+01:00"),
            ("202405011430", "2024-05-01T14:30"),
            ("20240501", "2024-05-01"),
            ("202405", "2024-05"),
            ("2024", "2024"),
            ("20240501143000.1234-0500", "2024-05-01T14:30:00-05:00"),
            ("20240501143000.5", "2024-05-01T14:30:00"),
            ("2024050114", "2024-05-01T14:00"),
            ("201409171904-0500", "2014-09-17T19:04-05:00"),
            ("20240501+0000", "2024-05-01"),
            (" 20240229 ", "2024-02-29"),
        ])
    func converts(hl7: String, iso: String) throws {
        let date = try #require(ClinicalDate(hl7Timestamp: hl7))
        #expect(date.text == iso)
        #expect(date == ClinicalDate(iso))
    }

    @Test(
        "invalid timestamps read as nil",
        arguments: [
            "", "   ", "2024-05-01", "24", "2024051", "20241301", "20230229", "20240501T1430", "202405011430+01",
            "20240501143000.", "202405011430Z", "20240501253000", "2024050114301", "yesterday", "20240501143000+0100x",
        ])
    func rejects(hl7: String) {
        #expect(ClinicalDate(hl7Timestamp: hl7) == nil)
    }

    @Test("a time with a zone sorts by its instant: 14:30+01:00 is 13:30Z")
    func zoneAffectsOrder() throws {
        let withZone = try #require(ClinicalDate(hl7Timestamp: "20240501143000+0100"))
        #expect(withZone.sortKey == ClinicalDate("2024-05-01T13:30:00Z")?.sortKey)
    }
}
