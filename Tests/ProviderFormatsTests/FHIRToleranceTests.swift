import CareRecords
import ProviderFormats
import Testing

/// Providers send what their systems produce, not what the specification says; the decoder reads what it can.
@Suite("Tolerant reading")
struct FHIRToleranceTests {
    static let provider: ProviderID = "trust-example"

    func decode(_ xml: String) throws -> DecodedRecord {
        try FHIRR4XMLDecoder().decode(Array(xml.utf8), from: Self.provider)
    }

    @Test("unknown elements are ignored and missing fields stay nil")
    func unknownElementsAndMissingFields() throws {
        let record = try decode(
            """
            <Observation xmlns="http://hl7.org/fhir">
              <id value="obs-1"/>
              <madeUpElement><nested value="x"/></madeUpElement>
              <code><text value="Peak expiratory flow"/></code>
              <futureR6Thing value="1"/>
            </Observation>
            """)
        #expect(record.unreadable == 0)
        let entry = try #require(record.entries.first)
        #expect(record.entries.count == 1)
        #expect(entry.category == .observation)
        #expect(entry.summary == "Peak expiratory flow")
        #expect(entry.code == Coding(display: "Peak expiratory flow"))
        #expect(entry.date == nil)
        #expect(entry.status == nil)
        #expect(entry.value == nil)
        #expect(entry.source == SourceReference(provider: Self.provider, id: "obs-1"))
    }

    @Test("without a code, the summary falls back to the resource type")
    func summaryFallsBackToType() throws {
        let entry = try #require(
            try decode(
                """
                <Encounter xmlns="http://hl7.org/fhir"><status value="finished"/><period><start value="2024-05-01"/></period></Encounter>
                """
            ).entries.first)
        #expect(entry.summary == "Encounter")
        #expect(entry.date?.text == "2024-05-01")
        #expect(entry.source.id == "#1")
    }

    @Test("an unparseable date is dropped, and the next candidate date is used")
    func unparseableDates() throws {
        let record = try decode(
            """
            <Bundle xmlns="http://hl7.org/fhir">
              <entry><resource><Immunization>
                <id value="imm-1"/>
                <vaccineCode><coding><system value="http://snomed.info/sct"/><code value="1"/><display value="Vaccine"/></coding></vaccineCode>
                <occurrenceDateTime value="last Tuesday"/>
              </Immunization></resource></entry>
              <entry><resource><MedicationStatement>
                <id value="ms-1"/>
                <medicationCodeableConcept><text value="Aspirin 75mg"/></medicationCodeableConcept>
                <effectivePeriod><start value="2024-13-45"/></effectivePeriod>
                <dateAsserted value="2024-01-05"/>
              </MedicationStatement></resource></entry>
            </Bundle>
            """)
        #expect(record.entries.count == 2)
        #expect(record.entries.first { $0.source.id == "imm-1" }?.date == nil)
        #expect(record.entries.first { $0.source.id == "ms-1" }?.date?.text == "2024-01-05")
    }

    @Test("one bad resource never spoils the others; what cannot be read is counted")
    func badResourceIsolated() throws {
        let record = try decode(
            """
            <Bundle xmlns="http://hl7.org/fhir">
              <type value="searchset"/>
              <entry><resource/></entry>
              <entry><resource><Condition><id value="c-empty"/><subject><reference value="Patient/1"/></subject></Condition></resource></entry>
              <entry><request><method value="GET"/><url value="Condition"/></request></entry>
              <entry><resource><Practitioner><id value="dr"/><name><family value="Who"/></name></Practitioner></resource></entry>
              <entry><resource><AllergyIntolerance><id value="a1"/><code><text value="Latex"/></code></AllergyIntolerance></resource></entry>
            </Bundle>
            """)
        #expect(record.entries.map(\.source.id) == ["a1"])
        #expect(record.entries.first?.summary == "Latex allergy")
        // The empty <resource/> and the Condition with nothing clinical in it; the request-only entry carries
        // no resource and the Practitioner is simply not shown.
        #expect(record.unreadable == 2)
    }

    @Test("a resource type the gateway does not show gives nothing, and is not an error")
    func unsupportedType() throws {
        #expect(
            try decode(
                #"<Organization xmlns="http://hl7.org/fhir"><id value="o"/><name value="Trust"/></Organization>"#)
                == DecodedRecord())
    }

    @Test("an invalid NHS number on the Patient is ignored, the rest of the demographics kept")
    func invalidNHSNumber() throws {
        let record = try decode(
            """
            <Patient xmlns="http://hl7.org/fhir">
              <identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9990000017"/></identifier>
              <name><given value="Alex"/><family value="EXAMPLE"/></name>
            </Patient>
            """)
        let patient = try #require(record.patient)
        #expect(patient.nhsNumber == nil)
        #expect(patient.givenName == "Alex")
        #expect(patient.familyName == "EXAMPLE")
    }

    @Test("the XHTML narrative is not read: a resource described only in its narrative is unreadable")
    func narrativeNotRead() throws {
        let record = try decode(
            """
            <Observation xmlns="http://hl7.org/fhir">
              <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">Blood glucose 5.1 mmol/L</div></text>
            </Observation>
            """)
        #expect(record.entries.isEmpty)
        #expect(record.unreadable == 1)
    }

    @Test("a reference to #id looks only in the referring resource's own contained resources")
    func containedScope() throws {
        let record = try decode(
            """
            <Bundle xmlns="http://hl7.org/fhir">
              <entry><resource><MedicationStatement>
                <id value="has-it"/>
                <contained><Medication><id value="m"/><code><text value="Warfarin 1mg tablets"/></code></Medication></contained>
                <medicationReference><reference value="#m"/></medicationReference>
              </MedicationStatement></resource></entry>
              <entry><resource><MedicationStatement>
                <id value="borrows-it"/>
                <medicationReference><reference value="#m"/><display value="Something else"/></medicationReference>
              </MedicationStatement></resource></entry>
            </Bundle>
            """)
        #expect(record.entries.map(\.code?.display) == ["Warfarin 1mg tablets", "Something else"])
    }
}
