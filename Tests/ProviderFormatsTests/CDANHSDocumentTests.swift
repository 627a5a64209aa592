import CareRecords
import ProviderFormats
import Testing

/// An NHS-style CDA discharge summary written for these tests: synthetic NHS number, NHS OIDs, dm+d codes.
@Suite("CDA: an NHS discharge summary")
struct CDANHSDocumentTests {
    static let documentID = "6B1F5C2E-8D4A-4E3B-9C7D-2A1B3C4D5E6F"
    static let localOID = "2.16.840.1.113883.2.1.3.2.4.18.99"

    /// `nhsNumber` goes into the record target; 9990000018 is in the never-issued 999 range and passes mod 11.
    /// Without `unreadableMedicine`, the document has no part that cannot be read.
    static func document(
        nhsNumber: String = "9990000018", id: String = documentID, title: String = "Inpatient discharge summary",
        unreadableMedicine: Bool = true
    ) -> String {
        let unreadable = """
                  <entry>
                    <substanceAdministration classCode="SBADM" moodCode="INT">
                      <consumable><manufacturedProduct><manufacturedMaterial>
                        <code nullFlavor="UNK"/>
                      </manufacturedMaterial></manufacturedProduct></consumable>
                    </substanceAdministration>
                  </entry>
            """
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
            xmlns:sdtc="urn:hl7-org:sdtc" xmlns:npfitlc="NPFIT:HL7:Localisation">
          <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
          <npfitlc:messageType root="2.16.840.1.113883.2.1.3.2.4.18.17" extension="POCD_MT200001GB02"/>
          <id root="\(id)"/>
          <code code="373942005" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Discharge summary"/>
          <title>\(title)</title>
          <effectiveTime value="20240501143000+0100"/>
          <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
          <setId root="\(localOID)" extension="DS-42"/>
          <versionNumber value="1"/>
          <recordTarget>
            <patientRole>
              <id root="\(localOID).24" extension="RX1234"/>
              <id root="2.16.840.1.113883.2.1.4.1" extension="\(nhsNumber)"/>
              <patient>
                <name use="L"><given>Alex</given><given>Sam</given><family>Testpatient</family></name>
                <administrativeGenderCode code="2" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25" displayName="Female"/>
                <birthTime value="19700312"/>
                <sdtc:deceasedInd value="false"/>
              </patient>
            </patientRole>
          </recordTarget>
          <author>
            <time value="20240501143000+0100"/>
            <assignedAuthor>
              <id root="2.16.840.1.113883.2.1.4.2" extension="C1234567"/>
              <representedOrganization><name>Riverside NHS Trust</name></representedOrganization>
            </assignedAuthor>
          </author>
          <custodian><assignedCustodian><representedCustodianOrganization>
            <name>Riverside Records Service</name>
          </representedCustodianOrganization></assignedCustodian></custodian>
          <componentOf>
            <encompassingEncounter>
              <id root="\(localOID).7" extension="ENC-77"/>
              <code code="183452005" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"
                  displayName="Emergency hospital admission"/>
              <effectiveTime><low value="20240428091500+0100"/><high value="20240501120000+0100"/></effectiveTime>
              <dischargeDispositionCode code="306689006" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"
                  displayName="Discharge to home"/>
            </encompassingEncounter>
          </componentOf>
          <component>
            <structuredBody>
              <component>
                <section>
                  <code code="10160-0" codeSystem="2.16.840.1.113883.6.1" displayName="History of medication use"/>
                  <title>Medications on discharge</title>
                  <text>
                    <table><tbody>
                      <tr><td>Metformin 500mg tablets</td><td><content ID="med1-dose">One tablet  twice a day
                        with food</content></td></tr>
                      <tr><td>Ramipril 10mg capsules</td><td>One capsule daily</td></tr>
                    </tbody></table>
                  </text>
                  <entry>
                    <substanceAdministration classCode="SBADM" moodCode="INT">
                      <id root="\(localOID).1" extension="M1"/>
                      <text><reference value="#med1-dose"/></text>
                      <statusCode code="active"/>
                      <effectiveTime xsi:type="IVL_TS"><low value="20240501"/></effectiveTime>
                      <doseQuantity value="500" unit="mg"/>
                      <consumable><manufacturedProduct><manufacturedMaterial>
                        <code code="325278007" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"
                            displayName="Metformin 500mg tablets"/>
                      </manufacturedMaterial></manufacturedProduct></consumable>
                    </substanceAdministration>
                  </entry>
                  <entry>
                    <substanceAdministration classCode="SBADM" moodCode="INT">
                      <statusCode code="active"/>
                      <effectiveTime xsi:type="PIVL_TS"><period value="24" unit="h"/></effectiveTime>
                      <doseQuantity value="1" unit="capsule"/>
                      <consumable><manufacturedProduct><manufacturedMaterial>
                        <code code="318906001" codeSystem="1.2.826.0.1285.0.2.0.4"
                            displayName="Ramipril 10mg capsules"/>
                      </manufacturedMaterial></manufacturedProduct></consumable>
                    </substanceAdministration>
                  </entry>
                  <entry>
                    <substanceAdministration classCode="SBADM" moodCode="INT" negationInd="true">
                      <consumable><manufacturedProduct><manufacturedMaterial>
                        <code code="322236009" codeSystem="1.2.826.0.1285.0.2.0.4"
                            displayName="Paracetamol 500mg tablets"/>
                      </manufacturedMaterial></manufacturedProduct></consumable>
                    </substanceAdministration>
                  </entry>
        \(unreadableMedicine ? unreadable : "")
                </section>
              </component>
              <component>
                <section>
                  <templateId root="2.16.840.1.113883.10.20.22.2.6.1"/>
                  <code code="48765-2" codeSystem="2.16.840.1.113883.6.1"/>
                  <title>Allergies and adverse reactions</title>
                  <text><paragraph ID="allergy1">Penicillin: urticaria</paragraph></text>
                  <entry>
                    <act classCode="ACT" moodCode="EVN">
                      <code code="CONC" codeSystem="2.16.840.1.113883.5.6"/>
                      <statusCode code="active"/>
                      <effectiveTime><low value="2019"/></effectiveTime>
                      <entryRelationship typeCode="SUBJ">
                        <observation classCode="OBS" moodCode="EVN">
                          <id root="\(localOID).2" extension="A1"/>
                          <code code="ASSERTION" codeSystem="2.16.840.1.113883.5.4"/>
                          <text><reference value="#allergy1"/></text>
                          <statusCode code="completed"/>
                          <value xsi:type="CD" code="419199007" codeSystem="2.16.840.1.113883.6.96"
                              displayName="Allergy to substance"/>
                          <participant typeCode="CSM"><participantRole classCode="MANU"><playingEntity classCode="MMAT">
                            <code code="373270004" codeSystem="2.16.840.1.113883.6.96" displayName="Penicillin"/>
                          </playingEntity></participantRole></participant>
                          <entryRelationship typeCode="MFST" inversionInd="true">
                            <observation classCode="OBS" moodCode="EVN">
                              <code code="ASSERTION" codeSystem="2.16.840.1.113883.5.4"/>
                              <value xsi:type="CD" code="126485001" codeSystem="2.16.840.1.113883.6.96"
                                  displayName="Urticaria"/>
                            </observation>
                          </entryRelationship>
                        </observation>
                      </entryRelationship>
                    </act>
                  </entry>
                </section>
              </component>
              <component>
                <section>
                  <code code="30954-2" codeSystem="2.16.840.1.113883.6.1"/>
                  <title>Investigations</title>
                  <entry>
                    <organizer classCode="BATTERY" moodCode="EVN">
                      <id root="\(localOID).3" extension="LAB-5"/>
                      <code code="26604007" codeSystem="2.16.840.1.113883.6.96" displayName="Full blood count"/>
                      <statusCode code="completed"/>
                      <effectiveTime value="20240430081500+0100"/>
                      <component>
                        <observation classCode="OBS" moodCode="EVN">
                          <id root="\(localOID).3" extension="LAB-5-1"/>
                          <code code="718-7" codeSystem="2.16.840.1.113883.6.1" displayName="Haemoglobin"/>
                          <statusCode code="completed"/>
                          <value xsi:type="PQ" value="131" unit="g/L"/>
                        </observation>
                      </component>
                      <component>
                        <observation classCode="OBS" moodCode="EVN">
                          <code code="2951-2" codeSystem="2.16.840.1.113883.6.1" displayName="Sodium"/>
                          <statusCode code="completed"/>
                          <effectiveTime value="20240430093000+0100"/>
                          <value xsi:type="PQ" value="139" unit="mmol/L"/>
                        </observation>
                      </component>
                    </organizer>
                  </entry>
                </section>
              </component>
              <component>
                <section>
                  <code code="51848-0" codeSystem="2.16.840.1.113883.6.1"/>
                  <title>Assessment</title>
                  <text>Recovering well.</text>
                  <entry>
                    <observation classCode="OBS" moodCode="EVN">
                      <code code="1234" codeSystem="2.16.840.1.113883.6.96" displayName="Not read"/>
                    </observation>
                  </entry>
                </section>
              </component>
            </structuredBody>
          </component>
        </ClinicalDocument>
        """
    }

    /// The document without its XML declaration, to be placed inside a wrapper.
    static func embeddable(_ document: String) -> String {
        document.replacingOccurrences(of: #"<?xml version="1.0" encoding="UTF-8"?>"#, with: "")
    }

    @Test("the NHS number, name, birth date and NHS gender code are read from the record target")
    func patient() throws {
        let patient = try #require(try CDAFixtures.decode(xml: Self.document()).patient)
        #expect(patient.nhsNumber == (try NHSNumber("9990000018")))
        #expect(patient.givenName == "Alex Sam")
        #expect(patient.familyName == "Testpatient")
        #expect(patient.birthDate?.text == "1970-03-12")
        #expect(patient.gender == "female")
    }

    @Test("an NHS number failing its check digit is dropped, and the rest still reads")
    func invalidNHSNumber() throws {
        let record = try CDAFixtures.decode(xml: Self.document(nhsNumber: "9990000019"))
        #expect(record.patient?.nhsNumber == nil)
        #expect(record.patient?.familyName == "Testpatient")
        #expect(record.entries(.document).count == 1)
    }

    @Test("the header: SNOMED CT under the NHS OID, time with its zone, title and authoring organisation")
    func header() throws {
        let document = try #require(try CDAFixtures.decode(xml: Self.document()).entries(.document).first)
        #expect(
            document.code == Coding(system: Coding.System.snomedCT, code: "373942005", display: "Discharge summary"))
        #expect(document.date?.text == "2024-05-01T14:30:00+01:00")
        #expect(document.summary == "Inpatient discharge summary — Riverside NHS Trust")
        #expect(document.status == "final")
        #expect(document.source == SourceReference(provider: CDAFixtures.provider, id: Self.documentID))
        #expect(
            document.identifiers == [
                EntryIdentifier(system: "urn:ietf:rfc:3986", value: "urn:uuid:6b1f5c2e-8d4a-4e3b-9c7d-2a1b3c4d5e6f"),
                EntryIdentifier(system: "urn:oid:\(Self.localOID)", value: "DS-42"),
            ])
    }

    @Test("a nullified document says so first in its summary, so no list of summaries shows it as current")
    func nullifiedDocument() throws {
        let nullified = Self.document().replacingOccurrences(
            of: #"<versionNumber value="1"/>"#, with: #"<versionNumber value="1"/><sdtc:statusCode code="nullified"/>"#)
        let document = try #require(try CDAFixtures.decode(xml: nullified).entries(.document).first)
        #expect(document.status == "nullified")
        #expect(document.summary == "Nullified: Inpatient discharge summary — Riverside NHS Trust")
    }

    @Test("the admission is an encounter entry: its code, start, the document title and the disposition")
    func encounter() throws {
        let encounter = try #require(try CDAFixtures.decode(xml: Self.document()).entries(.encounter).first)
        #expect(encounter.code?.code == "183452005")
        #expect(encounter.date?.text == "2024-04-28T09:15:00+01:00")
        #expect(
            encounter.summary
                == "Emergency hospital admission — Inpatient discharge summary; disposition: Discharge to home")
        #expect(encounter.source.id == "\(Self.documentID)/\(Self.localOID).7^ENC-77")
        #expect(encounter.identifiers == [EntryIdentifier(system: "urn:oid:\(Self.localOID).7", value: "ENC-77")])
    }

    @Test("a medicine under the NHS SNOMED OID is dm+d, its dose the narrative its text references")
    func narrativeDose() throws {
        let metformin = try CDAFixtures.decode(xml: Self.document()).entry(.medication, code: "325278007")
        #expect(
            metformin.code == Coding(system: Coding.System.dmd, code: "325278007", display: "Metformin 500mg tablets"))
        // The narrative's words, white space collapsed, not the structured 500 mg.
        #expect(metformin.dose == "One tablet twice a day with food")
        #expect(metformin.summary == "Metformin 500mg tablets — One tablet twice a day with food")
        #expect(metformin.date?.text == "2024-05-01")
        #expect(metformin.status == "active")
        #expect(metformin.source.id == "\(Self.documentID)/\(Self.localOID).1^M1")
        #expect(metformin.identifiers == [EntryIdentifier(system: "urn:oid:\(Self.localOID).1", value: "M1")])
    }

    @Test("a medicine under the dm+d OID, without words or id: dose from its structure, named by position")
    func structuredDose() throws {
        let ramipril = try CDAFixtures.decode(xml: Self.document()).entry(.medication, code: "318906001")
        #expect(ramipril.code?.system == Coding.System.dmd)
        #expect(ramipril.dose == "1 capsule every 24 h")
        #expect(ramipril.date == nil)
        #expect(ramipril.source.id == "\(Self.documentID)/#2")
        #expect(ramipril.identifiers.isEmpty)
    }

    @Test("a medicine not given (negationInd) is left out; one with nothing readable counts as unreadable")
    func negatedAndUnreadable() throws {
        let record = try CDAFixtures.decode(xml: Self.document())
        #expect(record.entries(.medication).count == 2)
        #expect(!record.entries.contains { $0.code?.code == "322236009" })
        #expect(record.unreadable == 1)
    }

    @Test("an allergy: substance code, reaction, concern status, onset from the concern")
    func allergy() throws {
        let penicillin = try CDAFixtures.decode(xml: Self.document()).entry(.allergy, code: "373270004")
        #expect(penicillin.code?.system == Coding.System.snomedCT)
        #expect(penicillin.summary == "Penicillin allergy — reaction: Urticaria")
        #expect(penicillin.status == "active")
        #expect(penicillin.date?.text == "2019")
        #expect(penicillin.source.id == "\(Self.documentID)/\(Self.localOID).2^A1")
    }

    /// An observation's own `statusCode` is `completed` once it is made. Taken as the allergy's status, a current
    /// penicillin allergy from a discharge summary read as finished, and FHIR export made it `resolved`.
    @Test("an allergy's status is its status observation's, else its concern's; never the observation's own")
    func allergyStatus() throws {
        let noConcernStatus = Self.document().replacing(
            /<statusCode code="active"\/>(\s*<effectiveTime><low value="2019"\/>)/
        ) { $0.output.1 }
        #expect(noConcernStatus != Self.document())
        #expect(try CDAFixtures.decode(xml: noConcernStatus).entry(.allergy, code: "373270004").status == nil)

        func stated(_ code: String) -> String {
            Self.document().replacing(
                /displayName="Urticaria"\/>\s*<\/observation>\s*<\/entryRelationship>/
            ) { $0.output + """
                    <entryRelationship typeCode="REFR"><observation classCode="OBS" moodCode="EVN">
                      <templateId root="2.16.840.1.113883.10.20.22.4.28"/>
                      <code code="33999-4" codeSystem="2.16.840.1.113883.6.1" displayName="Status"/>
                      <statusCode code="completed"/>
                      <value xsi:type="CD" code="\(code)" codeSystem="2.16.840.1.113883.6.96"/>
                    </observation></entryRelationship>
                    """ }
        }
        #expect(stated("413322009") != Self.document())
        // Stated resolved inside a concern still tracked: the statement about the allergy wins.
        #expect(try CDAFixtures.decode(xml: stated("413322009")).entry(.allergy, code: "373270004").status == "resolved")
        #expect(try CDAFixtures.decode(xml: stated("73425007")).entry(.allergy, code: "373270004").status == "inactive")
        // A value C-CDA does not name leaves the concern's status.
        #expect(try CDAFixtures.decode(xml: stated("12345")).entry(.allergy, code: "373270004").status == "active")
    }

    @Test("results: value and unit, the organizer's time when the observation has none, each with provenance")
    func results() throws {
        let record = try CDAFixtures.decode(xml: Self.document())
        let haemoglobin = try record.entry(.testResult, code: "718-7")
        #expect(haemoglobin.value == Quantity(value: "131", unit: "g/L"))
        #expect(haemoglobin.date?.text == "2024-04-30T08:15:00+01:00")
        #expect(haemoglobin.summary == "Haemoglobin: 131 g/L")
        #expect(haemoglobin.source.id == "\(Self.documentID)/\(Self.localOID).3^LAB-5-1")
        #expect(haemoglobin.identifiers == [EntryIdentifier(system: "urn:oid:\(Self.localOID).3", value: "LAB-5-1")])
        let sodium = try record.entry(.testResult, code: "2951-2")
        #expect(sodium.date?.text == "2024-04-30T09:30:00+01:00")
        #expect(sodium.source.id == "\(Self.documentID)/#6")
        // The panel itself is not a result; the assessment section is not read.
        #expect(record.entries(.testResult).count == 2)
        #expect(record.entries.count == 7)
    }

    @Test("a document without an id is named by its position in the response")
    func positionalDocumentSource() throws {
        let xml = Self.document().replacingOccurrences(of: "<id root=\"\(Self.documentID)\"/>", with: "")
        let record = try CDAFixtures.decode(xml: xml)
        let document = try #require(record.entries(.document).first)
        #expect(document.source.id == "#1")
        #expect(try record.entry(.medication, code: "318906001").source.id == "#1/#2")
    }
}

/// Several documents in one response, and responses that are not CDA.
@Suite("CDA: wrappers and refusals")
struct CDAWrapperTests {
    /// `documents` inside a wrapper element, as a provider returns several documents for one patient.
    func wrapped(_ documents: [String], in wrapper: String = #"<documents xmlns="urn:example:nhs111">"#) -> String {
        wrapper + documents.map(CDANHSDocumentTests.embeddable).joined(separator: "\n") + "</documents>"
    }

    @Test("a wrapper of two documents, one broken: the good one's entries, and one unreadable")
    func wrapperWithBrokenDocument() throws {
        let record = try CDAFixtures.decode(
            xml: wrapped([
                CDANHSDocumentTests.document(unreadableMedicine: false),
                #"<ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="GB"/></ClinicalDocument>"#,
            ]))
        #expect(record.unreadable == 1)
        #expect(record.entries.count == 7)
        #expect(record.entries.allSatisfy { $0.source.id.hasPrefix(CDANHSDocumentTests.documentID) })
        #expect(record.patient?.nhsNumber == (try NHSNumber("9990000018")))
    }

    @Test("a wrapper of two good documents yields both, a document outside the CDA namespace counts unreadable")
    func wrapperOfDocuments() throws {
        let record = try CDAFixtures.decode(
            xml: wrapped(
                [
                    CDANHSDocumentTests.document(id: "1.2.3.10", title: "NHS 111 call"),
                    CDANHSDocumentTests.document(id: "1.2.3.11", title: "NHS 111 call"),
                    "<ClinicalDocument><title>no namespace</title></ClinicalDocument>",
                ], in: "<documents>"))
        #expect(record.entries(.document).map(\.source.id) == ["1.2.3.10", "1.2.3.11"])
        #expect(record.entries.count == 14)
        // One unreadable medicine in each good document, and the document outside the namespace.
        #expect(record.unreadable == 1 + 1 + 1)
    }

    @Test("a document about a different NHS number than the first is left out and counted")
    func otherPatientsDocument() throws {
        let record = try CDAFixtures.decode(
            xml: wrapped([
                CDANHSDocumentTests.document(id: "1.2.3.1", unreadableMedicine: false),
                CDANHSDocumentTests.document(nhsNumber: "9997654323", id: "1.2.3.2", unreadableMedicine: false),
            ]))
        #expect(record.entries.allSatisfy { $0.source.id.hasPrefix("1.2.3.1") })
        #expect(record.entries.count == 7)
        #expect(record.unreadable == 1)
        #expect(record.patient?.nhsNumber == (try NHSNumber("9990000018")))
    }

    @Test("a root that is not CDA is refused, naming the element and its namespace")
    func notCDA() throws {
        let error = try CDAFixtures.error(
            decoding: #"<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/></Bundle>"#)
        guard case .unexpectedRoot(let element, let namespace, _) = error.reason else {
            Issue.record("unexpected reason \(error.reason)")
            return
        }
        #expect(element == "Bundle")
        #expect(namespace == "http://hl7.org/fhir")
        #expect(error.description.contains("<Bundle>"))
        #expect(error.shortDescription == "unexpected-root")
    }

    @Test("a ClinicalDocument outside the CDA namespace, and a wrapper of anything else, are refused")
    func wrongNamespaceAndOtherWrapper() throws {
        let bare = try CDAFixtures.error(decoding: "<ClinicalDocument><title>x</title></ClinicalDocument>")
        #expect(bare.reason == .unexpectedRoot(element: "ClinicalDocument", namespace: nil, expected: expectedText))
        let other = try CDAFixtures.error(decoding: "<documents><count>0</count></documents>")
        #expect(other.shortDescription == "unexpected-root")
        #expect(other.description.contains("<documents>"))
    }

    @Test("an empty wrapper is a provider holding no documents for the patient")
    func emptyWrapper() throws {
        let record = try CDAFixtures.decode(xml: #"<Documents xmlns="urn:example:documents"/>"#)
        #expect(record == DecodedRecord())
    }

    private var expectedText: String {
        "a ClinicalDocument in namespace urn:hl7-org:v3, or a wrapper of ClinicalDocuments"
    }

    @Test("truncated XML is refused as malformed, without quoting the document")
    func truncated() throws {
        let xml = String(CDANHSDocumentTests.document().prefix(1500))
        let error = try CDAFixtures.error(decoding: xml)
        #expect(error.xmlError?.reason == .malformed)
        #expect(!error.description.contains("Testpatient"))
    }

    @Test("a DOCTYPE is refused")
    func doctype() throws {
        let error = try CDAFixtures.error(
            decoding: """
                <?xml version="1.0"?>
                <!DOCTYPE ClinicalDocument [<!ENTITY name "Testpatient">]>
                <ClinicalDocument xmlns="urn:hl7-org:v3"><title>&name;</title></ClinicalDocument>
                """)
        #expect(error.xmlError?.reason == .doctypeForbidden)
        #expect(error.shortDescription == "xml-doctype-forbidden")
    }
}
