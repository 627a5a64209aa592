import CareRecords
import ProviderFormats
import Providers
import Testing

@Suite struct XMLMappingFileTests {
    static let valid = """
        # Declarative mapping from a bespoke XML format to CareGate entries (format: mapped-xml).
        namespaces:
          a: urn:caregate:example:ambulance-epcr:1
        root: a:EPCRExport
        patient: /a:EPCRExport/a:Patient/a:NHSNumber
        entries:
          - category: encounter
            records: /a:EPCRExport/a:Incident
            id: "@id"
            code: a:Type/@code
            code_system: http://snomed.info/sct
            display: a:Type/@display
            date: a:CallReceived
            status: a:Status
            summary: concat(a:Type/@display, ' — ', a:Outcome)
            identifier: a:IncidentNumber
            identifier_system: https://fhir.caregate.example/Id/ambulance-incident
          - category: observation
            records: /a:EPCRExport/a:Incident/a:Observations/a:Observation
            id: "@id"
            code: a:Code
            code_system: http://loinc.org
            display: a:Name
            date: a:Taken
            value: a:Value
            unit: a:Unit
          - category: medication
            records: //a:DrugGiven
            id: "@id"
            display: a:Drug
            dose: normalize-space(concat(a:Dose, ' ', a:Route))
            date: a:Given
        """

    static let export = """
        <EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1">
          <Patient><NHSNumber>9990001235</NHSNumber></Patient>
          <Incident id="INC-1">
            <IncidentNumber>LAS-26-118204</IncidentNumber>
            <CallReceived>2026-09-25T14:02:00+01:00</CallReceived>
            <Type code="29857009" display="Chest pain"/>
            <Status>finished</Status>
            <Outcome>Conveyed to ED</Outcome>
            <Observations>
              <Observation id="OBS-1"><Code>8867-4</Code><Name>Heart rate</Name>
                <Taken>2026-09-25T14:19:00+01:00</Taken><Value>112</Value><Unit>/min</Unit></Observation>
              <Observation id="OBS-2"><Code>1104051000000101</Code><Name>NEWS2 score</Name><Value>6</Value></Observation>
            </Observations>
            <DrugGiven id="DRUG-1"><Drug>Aspirin 300mg dispersible tablets</Drug><Dose>300 mg</Dose><Route>oral</Route>
              <Given>2026-09-25T14:22:00+01:00</Given></DrugGiven>
          </Incident>
        </EPCRExport>
        """

    @Test func aValidFileGivesAWorkingDecoder() throws {
        let mapping = try XMLMapping(yaml: Self.valid, file: "ambulance.mapping.yaml")
        #expect(mapping.namespaces == ["a": "urn:caregate:example:ambulance-epcr:1"])
        #expect(mapping.root == XMLMapping.Root(localName: "EPCRExport", namespace: "urn:caregate:example:ambulance-epcr:1"))
        #expect(mapping.rules.map(\.category) == [.encounter, .observation, .medication])
        #expect(mapping.rules[0].codeSystem == "http://snomed.info/sct")
        #expect(mapping.rules[0].summary?.text == "concat(a:Type/@display, ' — ', a:Outcome)")
        #expect(mapping.rules[2].codeSystem == nil)

        let record = try MappedXMLDecoder(mapping: mapping).decode(Array(Self.export.utf8), from: "ambulance")
        #expect(record.patient?.nhsNumber?.digits == "9990001235")
        #expect(record.unreadable == 0)
        #expect(record.entries.map(\.source.id) == ["INC-1", "OBS-1", "OBS-2", "DRUG-1"])
        let incident = record.entries[0]
        #expect(incident.summary == "Chest pain — Conveyed to ED")
        #expect(incident.code == Coding(system: "http://snomed.info/sct", code: "29857009", display: "Chest pain"))
        #expect(incident.identifiers.map(\.system) == ["https://fhir.caregate.example/Id/ambulance-incident"])
        #expect(record.entries[1].value == Quantity(value: "112", unit: "/min"))
        #expect(record.entries[2].date == nil)
        #expect(record.entries[3].dose == "300 mg oral")
        #expect(record.entries[3].code == Coding(system: nil, code: nil, display: "Aspirin 300mg dispersible tablets"))

        // The same file read twice gives the same mapping.
        #expect(try XMLMapping(yaml: Self.valid, file: "ambulance.mapping.yaml") == mapping)
    }

    /// An ambulance crew's drugs given are doses given at a time, not medicines the patient is on.
    @Test func aMedicationRuleCanSayItsRecordsAreDosesGiven() throws {
        let mapping = try XMLMapping(
            yaml: Self.valid.replacingOccurrences(of: "    date: a:Given", with: "    date: a:Given\n    administered: true"),
            file: "ambulance.mapping.yaml")
        #expect(mapping.rules.map(\.administered) == [false, false, true])
        let record = try MappedXMLDecoder(mapping: mapping).decode(Array(Self.export.utf8), from: "ambulance")
        #expect(record.entries.map(\.administered) == [false, false, false, true])
        #expect(try XMLMapping(yaml: Self.valid, file: "m.yaml").rules.allSatisfy { !$0.administered })
    }

    /// A bespoke system writes statuses in words. "Entered in error" must read as FHIR's `entered-in-error` — said
    /// first in the summary, never merged with another source's assertion — and "Active" as `active`.
    @Test func statusesInWordsBecomeCodes() throws {
        let mapping = try XMLMapping(
            yaml: """
                entries:
                  - category: allergy
                    records: /Home/Allergy
                    id: "@id"
                    display: Name
                    status: Status
                """, file: "care-home.mapping.yaml")
        let xml = """
            <Home>
              <Allergy id="a1"><Name>Penicillin</Name><Status>Entered in error</Status></Allergy>
              <Allergy id="a2"><Name>Latex</Name><Status>Active</Status></Allergy>
              <Allergy id="a3"><Name>Nuts</Name><Status>on_hold</Status></Allergy>
              <Allergy id="a4"><Name>Eggs</Name><Status>active</Status></Allergy>
            </Home>
            """
        let entries = try MappedXMLDecoder(mapping: mapping).decode(Array(xml.utf8), from: "care-home").entries
        #expect(entries.map(\.status) == ["entered-in-error", "active", "on-hold", "active"])
        #expect(entries.map(\.summary) == ["Entered in error: Penicillin", "Latex", "Nuts", "Eggs"])
        #expect(entries.map(\.standing) == [.withdrawn, .asserted, .asserted, .asserted])
    }

    @Test func theMinimalFileNeedsOnlyEntriesWithCategoryRecordsAndID() throws {
        let mapping = try XMLMapping(
            yaml: """
                entries:
                  - category: care-plan
                    records: /Home/Plan
                    id: "@ref"
                    summary: Title
                """, file: "care-home.mapping.yaml")
        #expect(mapping.root == nil)
        #expect(mapping.patientNHSNumber == nil)
        #expect(mapping.namespaces.isEmpty)
        let record = try MappedXMLDecoder(mapping: mapping)
            .decode(Array("<Home><Plan ref=\"p1\"><Title>Falls prevention</Title></Plan></Home>".utf8), from: "care-home")
        #expect(record.entries.map(\.summary) == ["Falls prevention"])
        #expect(record.entries.map(\.category) == [.carePlan])
    }

    @Test func aRootWithoutAPrefixIsInNoNamespace() throws {
        let yaml = Self.valid.replacingOccurrences(of: "root: a:EPCRExport", with: "root: EPCRExport")
        let mapping = try XMLMapping(yaml: yaml, file: "m.yaml")
        #expect(mapping.root == XMLMapping.Root(localName: "EPCRExport", namespace: nil))
        #expect(throws: DecodeError.self) {
            try MappedXMLDecoder(mapping: mapping).decode(Array(Self.export.utf8), from: "ambulance")
        }
    }

    /// Each bad file is refused with the file, the line, the key and what is wrong.
    @Test(arguments: [
        // Unknown keys, at the top and in an entry.
        ("root: a:EPCRExport", "root: a:EPCRExport\nversion: 2", "m.yaml:5: key 'version': unknown key"),
        ("    unit: a:Unit", "    unit: a:Unit\n    colour: red", "m.yaml:27: key 'entries[1].colour': unknown key"),
        // Required keys missing: the entry's first line.
        ("    records: /a:EPCRExport/a:Incident\n", "", "m.yaml:7: key 'entries[0].records': missing (required)"),
        ("    id: \"@id\"\n    code: a:Code", "    code: a:Code", "m.yaml:18: key 'entries[1].id': missing (required)"),
        ("  - category: medication\n", "  - records_: x\n", "m.yaml:27: key 'entries[2].records_': unknown key"),
        ("  - category: medication", "  - category: drug", "m.yaml:27: key 'entries[2].category': unknown category 'drug'"),
        // XPath that does not compile, with the expression.
        ("    date: a:Taken", "    date: a:Taken[", "m.yaml:24: key 'entries[1].date': XPath does not compile: "),
        ("    date: a:Taken", "    date: concat(a:Taken)", "m.yaml:24: key 'entries[1].date': XPath does not compile: concat() takes 2 or more arguments, given 1 at offset 14 in 'concat(a:Taken)'"),
        ("    status: a:Status", "    status: upper-case(a:Status)", "m.yaml:14: key 'entries[0].status': XPath does not compile: unknown function 'upper-case'"),
        // Undeclared prefixes, in an expression and in root.
        ("    display: a:Type/@display", "    display: b:Type/@display", "m.yaml:12: key 'entries[0].display': XPath does not compile: undeclared namespace prefix 'b' at offset 0 in 'b:Type/@display'"),
        ("root: a:EPCRExport", "root: x:EPCRExport", "m.yaml:4: key 'root': undeclared namespace prefix 'x'"),
        ("patient: /a:EPCRExport/a:Patient/a:NHSNumber", "patient: /e:EPCRExport", "m.yaml:5: key 'patient': XPath does not compile: undeclared namespace prefix 'e'"),
        // Other mistakes.
        ("    records: //a:DrugGiven", "    records: count(//a:DrugGiven)", "m.yaml:28: key 'entries[2].records': must select nodes"),
        ("    code_system: http://loinc.org", "    code_system: loinc", "m.yaml:22: key 'entries[1].code_system': expected a URI"),
        ("    identifier: a:IncidentNumber\n", "", "m.yaml:16: key 'entries[0].identifier_system': given without 'identifier'"),
        ("  a: urn:caregate", "  xml: urn:caregate", "m.yaml:3: key 'namespaces.xml': not a usable namespace prefix"),
        ("    id: \"@id\"\n    display: a:Drug", "    id:\n    display: a:Drug", "m.yaml:29: key 'entries[2].id': expected a text value"),
        ("    id: \"@id\"\n    display: a:Drug", "    id: @id\n    display: a:Drug", "m.yaml: not valid YAML"),
        // `administered`: a boolean, and only for medicines.
        ("    date: a:Given", "    date: a:Given\n    administered: yes please", "m.yaml:33: key 'entries[2].administered': expected true or false, got 'yes please'"),
        ("    status: a:Status", "    status: a:Status\n    administered: true", "m.yaml:15: key 'entries[0].administered': only for category medication (a dose given), not encounter"),
        // Yams refuses a key given twice, without a line.
        ("    status: a:Status", "    status: a:Status\n    status: a:Other", "m.yaml: not valid YAML: Parser: expected all keys to be unique but found the following duplicated key(s): 'status'"),
    ])
    func refusesABadFileWithAClearMessage(_ original: String, _ replacement: String, _ expected: String) {
        #expect(Self.valid.contains(original), "test setup: '\(original)' not in the file")
        let yaml = Self.valid.replacingOccurrences(of: original, with: replacement)
        do {
            _ = try XMLMapping(yaml: yaml, file: "m.yaml")
            Issue.record("expected the file to be refused")
        } catch {
            #expect(error.description.hasPrefix(expected), "\(error.description)")
        }
    }

    @Test func refusesAFileWithoutEntries() {
        #expect(throws: ConfigurationError(file: "m.yaml", line: 1, key: "entries", problem: "missing (required)")) {
            try XMLMapping(yaml: "root: EPCRExport\n", file: "m.yaml")
        }
        #expect(throws: ConfigurationError(file: "m.yaml", line: 1, key: "entries", problem: "must list at least one entry")) {
            try XMLMapping(yaml: "entries: []\n", file: "m.yaml")
        }
        #expect(throws: ConfigurationError(file: "m.yaml", line: 1, key: "entries", problem: "expected a list of entries")) {
            try XMLMapping(yaml: "entries: encounter\n", file: "m.yaml")
        }
        #expect(throws: ConfigurationError.self) { try XMLMapping(yaml: "- a\n- b\n", file: "m.yaml") }
        #expect(throws: ConfigurationError.self) { try XMLMapping(yaml: "", file: "m.yaml") }
    }
}
