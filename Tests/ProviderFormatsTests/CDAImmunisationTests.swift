import CareRecords
import ProviderFormats
import Testing

/// Immunisation sections: in A&E, whether a patient's tetanus cover is current decides a wound's treatment. A
/// vaccine given becomes an `immunisation` entry; one refused, not given or only planned never does.
@Suite("CDA: immunisations")
struct CDAImmunisationTests {
    @Test("the C-CDA samples' vaccines given, each coded CVX and dated; refused ones left out")
    func sampleImmunisations() throws {
        let ccd = try CDAFixtures.decode("CCD_CCD_1_CCD.XML").entries(.immunisation)
        // Five in the section; influenza (19981215) and meningococcal C are negated (refused, not given).
        #expect(ccd.map(\.code?.code) == ["88", "33", "45"])
        #expect(ccd.allSatisfy { $0.code?.system == "http://hl7.org/fhir/sid/cvx" })
        let influenza = try #require(ccd.first)
        #expect(influenza.code?.display == "influenza virus vaccine, unspecified formulation")
        #expect(influenza.date?.text == "1999-11")
        #expect(influenza.status == "completed")
        #expect(influenza.summary == "influenza virus vaccine, unspecified formulation")
        #expect(influenza.source.provider == CDAFixtures.provider)
        #expect(ccd.map(\.date?.text) == ["1999-11", "1998-12-15", "2013-08-01"])

        let tetanus = try CDAFixtures.decode("sampleCCD.xml").entry(.immunisation, code: "106")
        #expect(tetanus.code?.display == "Tetanus and diphtheria toxoids")
        #expect(tetanus.date?.text == "2012-01-04")
        #expect(try CDAFixtures.decode("sampleCCD.xml").entries(.immunisation).count == 2)
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

    @Test("a planned or refused vaccine is never shown as one given, nor counted as unreadable")
    func plannedAndRefusedAreLeftOut() throws {
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
        #expect(record.entries(.immunisation).isEmpty)
        #expect(record.unreadable == 0)
        #expect(record.entries.map(\.category) == [.document])
    }
}
