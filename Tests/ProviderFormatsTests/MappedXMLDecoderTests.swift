import CareRecords
import ProviderFormats
import Testing
import XMLSupport

@Suite struct MappedXMLDecoderTests {
    let provider: ProviderID = "ambulance"

    func decode(_ xml: String, mapping: XMLMapping? = nil) throws -> DecodedRecord {
        try MappedXMLDecoder(mapping: mapping ?? MappedAmbulanceExport.mapping())
            .decode(Array(xml.utf8), from: provider)
    }

    func entry(_ record: DecodedRecord, _ id: String) throws -> CareEntry {
        try #require(record.entries.first { $0.source.id == id }, "no entry \(id)")
    }

    @Test func decodesIncidentsObservationsAndDrugsGiven() throws {
        let record = try decode(MappedAmbulanceExport.xml)
        #expect(record.patient?.nhsNumber?.digits == MappedAmbulanceExport.nhsNumber)
        #expect(record.entries.filter { $0.category == .encounter }.count == 2)
        #expect(record.entries.filter { $0.category == .observation }.count == 5)
        #expect(record.entries.filter { $0.category == .medication }.count == 2)
        #expect(record.entries.allSatisfy { $0.source.provider == provider })

        let incident = try entry(record, "INC-2026-0412")
        #expect(incident.category == .encounter)
        #expect(incident.code == Coding(system: Coding.System.snomedCT, code: "29857009", display: "Chest pain"))
        #expect(incident.date?.text == "2026-09-25T14:02:00+01:00")
        #expect(incident.summary == "Chest pain — Conveyed to University Hospital Lewisham ED")
        #expect(incident.status == "finished")
        #expect(
            incident.identifiers == [
                EntryIdentifier(system: "https://fhir.caregate.example/Id/ambulance-incident", value: "LAS-26-118204")
            ])
        #expect(incident.value == nil)

        let heartRate = try entry(record, "OBS-1")
        #expect(heartRate.code == Coding(system: Coding.System.loinc, code: "8867-4", display: "Heart rate"))
        #expect(heartRate.value == Quantity(value: "112", unit: "/min"))
        #expect(heartRate.date?.day == "2025-09-25" || heartRate.date?.day == "2026-09-25")
        #expect(heartRate.summary == "Heart rate")
        #expect(try entry(record, "OBS-2").value == Quantity(value: "94", unit: "%"))

        let news2 = try entry(record, "OBS-4")
        #expect(news2.code == Coding(system: Coding.System.snomedCT, code: "1104051000000101", display: "NEWS2 score"))
        #expect(news2.value == Quantity(value: "6"))

        let aspirin = try entry(record, "DRUG-1")
        #expect(aspirin.category == .medication)
        #expect(aspirin.code?.system == Coding.System.dmd)
        #expect(aspirin.dose == "300 mg oral")
        #expect(aspirin.status == "completed")
        #expect(aspirin.summary == "Aspirin 300mg dispersible tablets")
        #expect(aspirin.date?.text == "2026-09-25T14:22:00+01:00")
    }

    @Test func leavesOutOptionalFieldsThatAreMissing() throws {
        let record = try decode(MappedAmbulanceExport.xml)
        let fall = try entry(record, "INC-2026-0977")
        #expect(fall.code == Coding(system: Coding.System.snomedCT, code: nil, display: "Fall"))
        #expect(fall.status == nil)
        #expect(fall.identifiers.isEmpty)
        #expect(fall.date?.text == "2026-11-02")
        // concat() with a missing outcome still gives the display and the separator (trimmed).
        #expect(fall.summary == "Fall —")

        // No id: a position (rule 2, its 4th record); an unparseable date is left out; no unit.
        let untimed = try entry(record, "2#4")
        #expect(untimed.date == nil)
        #expect(untimed.value == Quantity(value: "78", unit: nil))
    }

    @Test func summaryFallsBackToDisplayThenCodeThenCategory() throws {
        let namespaces = MappedAmbulanceExport.namespaces
        let rule = try XMLMapping.Rule(
            category: .condition, records: XPathExpression("//a:C", namespaces: namespaces),
            id: XPathExpression("@id", namespaces: namespaces),
            code: XPathExpression("@code", namespaces: namespaces),
            display: XPathExpression("@display", namespaces: namespaces),
            status: XPathExpression("@status", namespaces: namespaces))
        let record = try decode(
            """
            <r xmlns="\(MappedAmbulanceExport.namespace)">
              <C id="1" code="c1" display="Asthma"/><C id="2" code="c2"/><C id="3" status="active"/>
            </r>
            """, mapping: XMLMapping(rules: [rule]))
        #expect(record.entries.map(\.summary) == ["Asthma", "c2", "condition"])
        #expect(record.entries[2].code == nil)
        #expect(record.entries[0].code?.system == nil)
    }

    @Test func countsARecordWithNothingInItAsUnreadable() throws {
        let record = try decode(MappedAmbulanceExport.xml)
        // OBS-EMPTY has an id but no content.
        #expect(record.unreadable == 1)
        #expect(!record.entries.contains { $0.source.id == "OBS-EMPTY" })
        let blank = try decode(
            """
            <EPCRExport xmlns="\(MappedAmbulanceExport.namespace)"><Incident/><Incident><Status> </Status></Incident>
            </EPCRExport>
            """)
        #expect(blank.entries.isEmpty)
        #expect(blank.unreadable == 2)
        #expect(blank.patient == nil)
    }

    @Test func ignoresAnInvalidNHSNumber() throws {
        let xml = MappedAmbulanceExport.xml.replacingOccurrences(of: "999 000 1235", with: "999 000 1234")
        let record = try decode(xml)
        #expect(record.patient == nil)
        #expect(record.entries.count == 9)
    }

    @Test func refusesADocumentWithAnotherRoot() throws {
        let wrongNamespace = "<EPCRExport xmlns=\"urn:other\"><Incident id=\"1\"/></EPCRExport>"
        do {
            _ = try decode(wrongNamespace)
            Issue.record("expected the root to be refused")
        } catch let error as DecodeError {
            #expect(
                error.reason
                    == .unexpectedRoot(
                        element: "EPCRExport", namespace: "urn:other",
                        expected: "<EPCRExport> in namespace \(MappedAmbulanceExport.namespace)"))
            #expect(error.shortDescription == "unexpected-root")
        }
        #expect(throws: DecodeError.self) { try decode("<Bundle xmlns=\"http://hl7.org/fhir\"/>") }
        // Without a root in the mapping, any root is read.
        var mapping = try MappedAmbulanceExport.mapping()
        mapping.root = nil
        #expect(try decode("<Other/>", mapping: mapping).entries.isEmpty)
    }

    @Test(arguments: [
        ("<!DOCTYPE EPCRExport [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><EPCRExport>&x;</EPCRExport>", "xml-doctype-forbidden"),
        ("<EPCRExport xmlns=\"urn:caregate:example:ambulance-epcr:1\"><Incident id=\"SECRET\">", "xml-malformed"),
        (String(repeating: "<a>", count: 200) + String(repeating: "</a>", count: 200), "xml-too-deep"),
        ("<a>\u{0}</a>", "xml-malformed"),
        ("", "xml-empty"),
    ])
    func refusesHostileInput(_ xml: String, _ expected: String) throws {
        do {
            let record = try decode(xml)
            Issue.record("expected a refusal, got \(record.entries.count) entries")
        } catch let error as DecodeError {
            #expect(error.shortDescription == expected || (expected == "xml-malformed" && error.shortDescription == "xml-invalid-encoding"))
            #expect(!error.description.contains("root:"))
            #expect(!error.description.contains("SECRET"))
        }
    }

    @Test func refusesADocumentOverTheSizeLimit() throws {
        let decoder = try MappedXMLDecoder(mapping: MappedAmbulanceExport.mapping(), limits: XMLParseLimits(maxBytes: 1024))
        #expect(throws: DecodeError.xml(XMLParseError(.tooLarge(limit: 1024)))) {
            try decoder.decode(Array(MappedAmbulanceExport.xml.utf8), from: "ambulance")
        }
    }

    @Test func aRuleWhoseRecordsCannotBeReadCountsOnceAndTheRestStillDecodes() throws {
        var mapping = try MappedAmbulanceExport.mapping()
        mapping.rules.append(
            try XMLMapping.Rule(
                category: .document, records: XPathExpression("//*[count(//*[count(//*) > 0]) > 0]"),
                id: XPathExpression("@id")))
        var xml = "<EPCRExport xmlns=\"\(MappedAmbulanceExport.namespace)\">"
        xml += String(repeating: "<Incident><Status>finished</Status></Incident>", count: 1500)
        xml += "</EPCRExport>"
        let record = try decode(xml, mapping: mapping)
        #expect(record.entries.count == 1500)
        #expect(record.unreadable == 1)
    }

    @Test func decodesTheSameDocumentConcurrently() async throws {
        let decoder = try MappedXMLDecoder(mapping: MappedAmbulanceExport.mapping())
        let body = Array(MappedAmbulanceExport.xml.utf8)
        let expected = try decoder.decode(body, from: "ambulance")
        try await withThrowingTaskGroup(of: DecodedRecord.self) { group in
            for _ in 0..<16 { group.addTask { try decoder.decode(body, from: "ambulance") } }
            for try await record in group { #expect(record == expected) }
        }
    }
}
