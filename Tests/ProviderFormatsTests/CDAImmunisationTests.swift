import CareRecords
import ProviderFormats
import Testing

/// Immunisation sections: in A&E, whether a patient's tetanus cover is current decides a wound's treatment. A
/// vaccine given becomes an `immunisation` entry; one refused or not given reads "not given" (status `not-done`,
/// as FHIR's); one only planned is left out.
@Suite("CDA: immunisations")
struct CDAImmunisationTests {
    @Test("the C-CDA samples' vaccines, each coded CVX and dated; refused ones read 'not given', with the reason")
    func sampleImmunisations() throws {
        let ccd = try CDAFixtures.decode("CCD_CCD_1_CCD.XML").entries(.immunisation)
        let given = ccd.filter { $0.status == "completed" }
        #expect(given.map(\.code?.code) == ["88", "33", "45"])
        #expect(ccd.allSatisfy { $0.code?.system == "http://hl7.org/fhir/sid/cvx" })
        let influenza = try #require(given.first)
        #expect(influenza.code?.display == "influenza virus vaccine, unspecified formulation")
        #expect(influenza.date?.text == "1999-11")
        #expect(influenza.summary == "influenza virus vaccine, unspecified formulation")
        #expect(influenza.source.provider == CDAFixtures.provider)
        #expect(given.map(\.date?.text) == ["1999-11", "1998-12-15", "2013-08-01"])

        // Influenza (1998-12-15) and meningococcal C are negated: refused, never shown as given.
        let refused = ccd.filter { $0.status == "not-done" }
        #expect(refused.map(\.code?.code) == ["88", "103"])
        #expect(refused.allSatisfy { $0.summary.contains(" — not given") })
        #expect(refused.last?.summary == "meningococcal C conjugate vaccine — not given: patient objection")

        let sample = try CDAFixtures.decode("sampleCCD.xml").entries(.immunisation)
        let tetanus = try #require(sample.first { $0.code?.code == "106" })
        #expect(tetanus.code?.display == "Tetanus and diphtheria toxoids")
        #expect(tetanus.date?.text == "2012-01-04")
        #expect(sample.map(\.status) == ["completed", "completed", "not-done"])
        #expect(sample.last?.summary.hasSuffix(" — not given: Patient Objection") == true)
    }

    static func document(entries: String) -> String {
        """
        <ClinicalDocument xmlns="urn:hl7-org:v3">
          <id root="2.16.840.1.113883.2.1.3.2.4.18.99" extension="IMM-1"/>
          <code code="34133-9" codeSystem="2.16.840.1.113883.6.1" displayName="Summary of episode note"/>
          <effectiveTime value="20240501143000+0100"/>
          <recordTarget><patientRole>
            <id root="2.16.840.1.113883.2.1.4.1" extension="9990000018"/>
            <patient><name><given>Alex</given><family>Testpatient</family></name></patient>
          </patientRole></recordTarget>
          <component><structuredBody><component><section>
            <code code="11369-6" codeSystem="2.16.840.1.113883.6.1" displayName="History of immunization"/>
            <text><table><tbody>
              <tr><td ID="imm-2">Tetanus, diphtheria and pertussis booster</td><td>15 January 2023</td></tr>
            </tbody></table></text>
            \(entries)
          </section></component></structuredBody></component>
        </ClinicalDocument>
        """
    }

    @Test("a section known by its LOINC code alone; dose number, and words from the narrative when uncoded")
    func doseNumberAndNarrative() throws {
        let record = try CDAFixtures.decode(
            xml: Self.document(
                entries: """
                    <entry><substanceAdministration classCode="SBADM" moodCode="EVN" negationInd="false">
                      <id root="2.16.840.1.113883.2.1.3.2.4.18.99.3" extension="V1"/>
                      <statusCode code="completed"/>
                      <effectiveTime value="20230115"/>
                      <repeatNumber value="2"/>
                      <consumable><manufacturedProduct><manufacturedMaterial>
                        <code code="115" codeSystem="2.16.840.1.113883.12.292" displayName="Tdap"/>
                      </manufacturedMaterial></manufacturedProduct></consumable>
                    </substanceAdministration></entry>
                    <entry><substanceAdministration classCode="SBADM" moodCode="EVN">
                      <text><reference value="#imm-2"/></text>
                      <statusCode code="completed"/>
                      <effectiveTime value="20230115"/>
                      <consumable><manufacturedProduct><manufacturedMaterial>
                        <code nullFlavor="UNK"/>
                      </manufacturedMaterial></manufacturedProduct></consumable>
                    </substanceAdministration></entry>
                    """))
        #expect(record.unreadable == 0)
        let given = record.entries(.immunisation)
        #expect(given.count == 2)
        #expect(given.first?.summary == "Tdap — dose 2")
        #expect(given.first?.date?.text == "2023-01-15")
        #expect(given.first?.identifiers.first?.value == "V1")
        #expect(given.last?.summary == "Tetanus, diphtheria and pertussis booster")
        #expect(given.last?.code?.code == nil)
    }

    @Test("a planned vaccine is left out, not counted as unreadable; a refused one reads 'not given'")
    func plannedIsLeftOutAndRefusedIsNotGiven() throws {
        let vaccine = """
            <consumable><manufacturedProduct><manufacturedMaterial>
              <code code="115" codeSystem="2.16.840.1.113883.12.292" displayName="Tdap"/>
            </manufacturedMaterial></manufacturedProduct></consumable>
            """
        let record = try CDAFixtures.decode(
            xml: Self.document(
                entries: """
                    <entry><substanceAdministration classCode="SBADM" moodCode="INT">
                      <statusCode code="active"/><effectiveTime value="20250115"/>\(vaccine)
                    </substanceAdministration></entry>
                    <entry><substanceAdministration classCode="SBADM" moodCode="EVN" negationInd="true">
                      <statusCode code="completed"/><effectiveTime value="20230115"/>\(vaccine)
                    </substanceAdministration></entry>
                    """))
        #expect(record.unreadable == 0)
        let entries = record.entries(.immunisation)
        #expect(entries.count == 1)
        #expect(entries.first?.summary == "Tdap — not given")
        #expect(entries.first?.status == "not-done")
        #expect(entries.first?.date?.text == "2023-01-15")
    }
}
