import CareRecords
import ProviderFormats
import Testing

/// A searchset as a GP system would answer a query for one patient, written by hand to exercise what the
/// UK Core examples do not: several types in one Bundle, contained and cross-entry references, entries
/// without ids, and entries the gateway does not show.
@Suite("Hand-written searchset Bundle")
struct FHIRSearchsetBundleTests {
    static let provider: ProviderID = "gp-lewisham"

    static let searchset = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Bundle xmlns="http://hl7.org/fhir">
          <id value="search-1"/>
          <type value="searchset"/>
          <total value="5"/>
          <entry>
            <fullUrl value="https://gp.example.nhs.uk/fhir/Patient/p1"/>
            <resource>
              <Patient>
                <id value="p1"/>
                <identifier>
                  <system value="https://fhir.nhs.uk/Id/nhs-number"/>
                  <value value="9990000018"/>
                </identifier>
                <name><use value="usual"/><given value="Sam"/><family value="Usual"/></name>
                <name><use value="official"/><given value="Samuel"/><given value="James"/><family value="TESTER"/></name>
                <gender value="other"/>
                <birthDate value="1984-07"/>
              </Patient>
            </resource>
            <search><mode value="include"/></search>
          </entry>
          <entry>
            <fullUrl value="https://gp.example.nhs.uk/fhir/MedicationStatement/ms1"/>
            <resource>
              <MedicationStatement>
                <id value="ms1"/>
                <text>
                  <status value="generated"/>
                  <div xmlns="http://www.w3.org/1999/xhtml"><p>Metformin, see <b>record</b></p></div>
                </text>
                <contained>
                  <Medication>
                    <id value="med1"/>
                    <code>
                      <coding>
                        <system value="https://dmd.nhs.uk"/>
                        <code value="42125511000001103"/>
                        <display value="Metformin 500mg tablets"/>
                      </coding>
                    </code>
                  </Medication>
                </contained>
                <identifier>
                  <system value="https://gp.example.nhs.uk/Id/medication"/>
                  <value value="MS-0001"/>
                </identifier>
                <identifier>
                  <value value="local-without-system"/>
                </identifier>
                <status value="active"/>
                <medicationReference><reference value="#med1"/></medicationReference>
                <effectiveDateTime value="2024-01-05"/>
                <dosage><text value="One tablet twice a day with food"/></dosage>
              </MedicationStatement>
            </resource>
            <search><mode value="match"/></search>
          </entry>
          <entry>
            <fullUrl value="https://gp.example.nhs.uk/fhir/MedicationRequest/mr1"/>
            <resource>
              <MedicationRequest>
                <id value="mr1"/>
                <status value="active"/>
                <intent value="order"/>
                <medicationReference><reference value="Medication/med2"/></medicationReference>
                <authoredOn value="2024-02-10T09:30:00Z"/>
                <dosageInstruction><text value="Two puffs when required"/></dosageInstruction>
              </MedicationRequest>
            </resource>
          </entry>
          <entry>
            <fullUrl value="https://gp.example.nhs.uk/fhir/Medication/med2"/>
            <resource>
              <Medication>
                <id value="med2"/>
                <code>
                  <coding>
                    <system value="http://snomed.info/sct"/>
                    <code value="320164009"/>
                    <display value="Salbutamol 100micrograms/dose inhaler"/>
                  </coding>
                </code>
              </Medication>
            </resource>
            <search><mode value="include"/></search>
          </entry>
          <entry>
            <fullUrl value="https://gp.example.nhs.uk/fhir/AllergyIntolerance/al1"/>
            <resource>
              <AllergyIntolerance>
                <id value="al1"/>
                <clinicalStatus><coding><code value="active"/></coding></clinicalStatus>
                <criticality value="high"/>
                <code>
                  <coding>
                    <system value="http://snomed.info/sct"/>
                    <code value="373270004"/>
                    <display value="Penicillin"/>
                  </coding>
                </code>
                <recordedDate value="2010-06-01"/>
                <reaction>
                  <manifestation><coding><display value="Rash"/></coding></manifestation>
                </reaction>
              </AllergyIntolerance>
            </resource>
          </entry>
          <entry>
            <fullUrl value="urn:uuid:0d8a1f3e-7a4b-4a7e-9b1f-2f7e5c9d1a01"/>
            <resource>
              <Observation>
                <status value="final"/>
                <category>
                  <coding>
                    <system value="http://terminology.hl7.org/CodeSystem/observation-category"/>
                    <code value="laboratory"/>
                  </coding>
                </category>
                <code>
                  <coding><system value="http://loinc.org"/><code value="4548-4"/><display value="HbA1c"/></coding>
                  <coding><system value="http://snomed.info/sct"/><code value="1107481000000106"/></coding>
                  <text value="Haemoglobin A1c level"/>
                </code>
                <effectiveDateTime value="2024-03-01T08:15:00+00:00"/>
                <valueQuantity><value value="48"/><code value="mmol/mol"/></valueQuantity>
              </Observation>
            </resource>
          </entry>
          <entry>
            <resource>
              <Condition>
                <clinicalStatus><coding><code value="active"/></coding></clinicalStatus>
                <code><coding><system value="http://snomed.info/sct"/><code value="44054006"/><display value="Type 2 diabetes mellitus"/></coding></code>
                <onsetDateTime value="2019"/>
              </Condition>
            </resource>
          </entry>
          <entry>
            <resource>
              <OperationOutcome>
                <issue><severity value="information"/><code value="informational"/></issue>
              </OperationOutcome>
            </resource>
            <search><mode value="outcome"/></search>
          </entry>
        </Bundle>
        """

    func decode() throws -> DecodedRecord {
        try FHIRR4XMLDecoder().decode(Array(Self.searchset.utf8), from: Self.provider)
    }

    @Test("the test patient's NHS number is a valid synthetic one")
    func syntheticNHSNumber() throws {
        #expect(NHSNumber.checkDigit([9, 9, 9, 0, 0, 0, 0, 0, 1] as [UInt8]) == 8)
        #expect(try NHSNumber("9990000018").isSyntheticTestNumber)
    }

    @Test("every clinical resource becomes one entry with its provider and own id; others are not shown")
    func provenance() throws {
        let record = try decode()
        #expect(record.unreadable == 0)
        #expect(record.entries.map(\.category) == [.medication, .medication, .allergy, .testResult, .condition])
        // Own id first; the fullUrl when there is no id; the position in the Bundle when there is neither.
        #expect(
            record.entries.map(\.source) == [
                SourceReference(provider: Self.provider, id: "ms1"),
                SourceReference(provider: Self.provider, id: "mr1"),
                SourceReference(provider: Self.provider, id: "al1"),
                SourceReference(provider: Self.provider, id: "urn:uuid:0d8a1f3e-7a4b-4a7e-9b1f-2f7e5c9d1a01"),
                SourceReference(provider: Self.provider, id: "#7"),
            ])
    }

    @Test("a contained Medication referenced as #id is resolved")
    func containedMedication() throws {
        let statement = try #require(try decode().entries.first { $0.source.id == "ms1" })
        #expect(
            statement.code
                == Coding(system: Coding.System.dmd, code: "42125511000001103", display: "Metformin 500mg tablets"))
        #expect(statement.dose == "One tablet twice a day with food")
        #expect(statement.date?.text == "2024-01-05")
        #expect(statement.status == "active")
        // An identifier without a system is not shared meaningfully with other providers, so it is left out.
        #expect(
            statement.identifiers == [
                EntryIdentifier(system: "https://gp.example.nhs.uk/Id/medication", value: "MS-0001")
            ])
        #expect(statement.summary == "Metformin 500mg tablets — One tablet twice a day with food")
    }

    @Test("a Medication in another Bundle entry is resolved by Type/id")
    func bundleMedication() throws {
        let request = try #require(try decode().entries.first { $0.source.id == "mr1" })
        #expect(
            request.code
                == Coding(
                    system: Coding.System.snomedCT, code: "320164009", display: "Salbutamol 100micrograms/dose inhaler")
        )
        #expect(request.date?.text == "2024-02-10T09:30:00Z")
    }

    @Test("allergy summary names substance, reaction and criticality")
    func allergySummary() throws {
        let allergy = try #require(try decode().entries.first { $0.category == .allergy })
        #expect(allergy.summary == "Penicillin allergy — reaction: Rash; criticality: high")
        #expect(allergy.status == "active")
        #expect(allergy.date?.text == "2010-06-01")
    }

    @Test("SNOMED CT is preferred over an earlier LOINC coding; its missing display comes from the text")
    func codingPreference() throws {
        let result = try #require(try decode().entries.first { $0.category == .testResult })
        #expect(
            result.code
                == Coding(system: Coding.System.snomedCT, code: "1107481000000106", display: "Haemoglobin A1c level"))
        #expect(result.value == Quantity(value: "48", unit: "mmol/mol"))
        #expect(result.summary == "Haemoglobin A1c level: 48 mmol/mol")
    }

    @Test("the Patient gives demographics: official name, NHS number, partial birth date")
    func demographics() throws {
        let patient = try #require(try decode().patient)
        #expect(patient.nhsNumber == (try NHSNumber("9990000018")))
        #expect(patient.givenName == "Samuel James")
        #expect(patient.familyName == "TESTER")
        #expect(patient.birthDate?.text == "1984-07")
        #expect(patient.gender == "other")
    }
}
