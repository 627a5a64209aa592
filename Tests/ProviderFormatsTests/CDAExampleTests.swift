import CareRecords
import ProviderFormats
import Testing

/// The HL7 CDA R2 and C-CDA sample documents decode into what they say.
@Suite("CDA sample documents")
struct CDAExampleTests {
    @Test("all 14 sample documents are there and decode without a single unreadable part")
    func allDecode() throws {
        let names = try CDAFixtures.fileNames()
        #expect(names.count == 14)
        for name in names {
            let record = try CDAFixtures.decode(name)
            #expect(record.unreadable == 0, "\(name)")
            #expect(record.patient?.familyName != nil, "\(name)")
        }
    }

    @Test("each document yields exactly one document entry, dated and LOINC-coded, named by the document id")
    func oneDocumentEntryEach() throws {
        for name in try CDAFixtures.fileNames() {
            let documents = try CDAFixtures.decode(name).entries(.document)
            try #require(documents.count == 1, "\(name)")
            let document = documents[0]
            #expect(document.date != nil, "\(name)")
            #expect(document.code?.system == Coding.System.loinc, "\(name)")
            #expect(document.status == "final", "\(name)")
            #expect(!document.source.id.contains("/"), "\(name)")
            #expect(document.source.provider == CDAFixtures.provider)
        }
    }

    @Test(
        "document type, title and time",
        arguments: [
            ("Discharge_Summary_Discharge_Summary.xml", "18842-5", "Discharge summary",
             "Community Health and Hospitals: Discharge Summary — Community Health and Hospitals",
             "2014-09-17T19:04-05:00"),
            ("CCD_CCD_1_CCD.XML", "34133-9", "Summary of episode note", "Patient Chart Summary — Good Health HIE",
             "2013-08-15T10:30-08:00"),
            ("Diagnostic_Imaging_Report_Diagnostic_Imaging_Report.xml", "18748-4", "Diagnostic imaging study",
             nil, "2005-03-29T17:15:04-05:00"),
            ("SampleCDADocument.xml", "11488-4", "Consultation note", nil, "2000-04-07"),
            ("Referral_Note_Referral_Note.xml", "57113-1", "Referral Note", nil, "2013-09-21T05:00-08:00"),
        ] as [(String, String, String, String?, String)])
    func documentHeader(file: String, code: String, display: String, summary: String?, date: String) throws {
        let document = try #require(try CDAFixtures.decode(file).entries(.document).first)
        #expect(document.code == Coding(system: Coding.System.loinc, code: code, display: display))
        #expect(document.date?.text == date)
        if let summary { #expect(document.summary == summary) }
    }

    @Test("the document entry carries the document id and set id, and names its source root^extension")
    func documentIdentifiers() throws {
        let document = try #require(
            try CDAFixtures.decode("Discharge_Summary_Discharge_Summary.xml").entries(.document).first)
        #expect(document.source.id == "2.16.840.1.113883.19.5.99999.1^TT988")
        #expect(
            document.identifiers == [
                EntryIdentifier(system: "urn:oid:2.16.840.1.113883.19.5.99999.1", value: "TT988"),
                EntryIdentifier(system: "urn:oid:2.16.840.1.113883.19.5.99999.19", value: "sTT988"),
            ])
        // A UUID root follows FHIR's mapping of II, so a FHIR copy's identifier compares equal.
        let transfer = try #require(
            try CDAFixtures.decode("Transfer_Summary_Transfer_Summary.xml").entries(.document).first)
        #expect(transfer.source.id == "04fc2b90-10e0-11e2-892e-0800200c9a66")
        #expect(
            transfer.identifiers.first
                == EntryIdentifier(system: "urn:ietf:rfc:3986", value: "urn:uuid:04fc2b90-10e0-11e2-892e-0800200c9a66"))
    }

    @Test("the record target's demographics; a US SSN under its own OID is not taken for an NHS number")
    func demographics() throws {
        let patient = try #require(try CDAFixtures.decode("CCD_CCD_1_CCD.XML").patient)
        #expect(
            patient
                == PatientDemographics(
                    nhsNumber: nil, givenName: "Eve", familyName: "Betterhalf", birthDate: ClinicalDate("1975-05-01"),
                    gender: "female"))
        #expect(try CDAFixtures.decode("SampleCDADocument.xml").patient?.gender == "male")
    }

    @Test("medications: code system mapped from its OID, dose from the entry's words, else from its structure")
    func medications() throws {
        // A C-CDA medicine with no words of its own: the dose is assembled from doseQuantity and the period.
        let albuterol = try CDAFixtures.decode("CCD_CCD_1_CCD.XML").entry(.medication, code: "573621")
        #expect(albuterol.code?.system == "http://www.nlm.nih.gov/research/umls/rxnorm")
        #expect(albuterol.code?.display == "albuterol 0.09 MG/ACTUAT [Proventil]")
        #expect(albuterol.dose == "2 every 6 h")
        #expect(albuterol.date?.text == "2011-01-03")
        #expect(albuterol.status == "active")
        #expect(albuterol.summary == "albuterol 0.09 MG/ACTUAT [Proventil] — 2 every 6 h")

        // The CDA R2 sample: SNOMED CT, manufacturedLabeledDrug, and the entry's own text as the dose.
        let sample = try CDAFixtures.decode("SampleCDADocument.xml")
        #expect(sample.entries(.medication).count == 4)
        let theophylline = try sample.entry(.medication, code: "66493003")
        #expect(theophylline.code == Coding(system: Coding.System.snomedCT, code: "66493003", display: "Theophylline"))
        #expect(theophylline.dose == "Theodur 200mg BID")

        // A discharge medicine inside a discharge-medication act, its text a reference into the narrative row.
        let ibuprofen = try CDAFixtures.decode("Discharge_Summary_Discharge_Summary.xml")
            .entry(.medication, code: "197806")
        #expect(ibuprofen.dose == "Ibuprofen 600mg Oral Tablet take 1 tablet QID PRN 600 MG Sep-16-2014 - Active")
        #expect(ibuprofen.date?.text == "2014-09-16T13:00-05:00")
        #expect(ibuprofen.source.id == "2.16.840.1.113883.19.5.99999.1^TT988/47d3e719-f688-459d-bcdc-47c6de0767a9")
        #expect(
            ibuprofen.identifiers == [
                EntryIdentifier(system: "urn:ietf:rfc:3986", value: "urn:uuid:47d3e719-f688-459d-bcdc-47c6de0767a9")
            ])
    }

    @Test("allergies: the substance is the code, the reaction is in the summary, the concern act gives the status")
    func allergies() throws {
        let record = try CDAFixtures.decode("CCD_CCD_1_CCD.XML")
        // Two allergies; the severity observation beside the concern is not a third.
        #expect(record.entries(.allergy).count == 2)
        let penicillin = try record.entry(.allergy, code: "70618")
        #expect(penicillin.code?.system == "http://www.nlm.nih.gov/research/umls/rxnorm")
        // The severity stated on the concern act.
        #expect(penicillin.summary == "Penicillin allergy — reaction: Nausea; severity: Moderate to severe")
        #expect(penicillin.status == "active")
        #expect(penicillin.date?.text == "1998-05-01")
        // The severity stated beside the allergy itself.
        let codeine = try record.entry(.allergy, code: "2670")
        #expect(codeine.summary == "codeine allergy — reaction: Wheezing; severity: Mild")
        // The severity stated on the reaction (C-CDA R2).
        let discharge = try CDAFixtures.decode("Discharge_Summary_Discharge_Summary.xml")
        let penicillinG = try discharge.entry(.allergy, code: "7980")
        #expect(penicillinG.summary == "penicillin G allergy — reaction: Nausea; severity: Moderate to severe")
    }

    @Test("a negated allergy (\"no known allergies\") is not shown as an allergy")
    func negatedAllergy() throws {
        let record = try CDAFixtures.decode("CCD_CCD_2_CCD.xml")
        #expect(record.entries(.allergy).isEmpty)
        #expect(record.unreadable == 0)
    }

    @Test("problems: the observation's value is the condition; a resolved concern reads as completed")
    func problems() throws {
        let conditions = try CDAFixtures.decode("CCD_CCD_1_CCD.XML").entries(.condition)
        #expect(conditions.map { $0.code?.code } == ["233604007", "29857009", "194828000", "233604007"])
        #expect(conditions.allSatisfy { $0.code?.system == Coding.System.snomedCT })
        #expect(conditions[1].summary == "Chest pain")
        #expect(conditions[1].date?.text == "2007-04-14")
        #expect(conditions.map(\.status) == ["active", "active", "active", "completed"])
        // The discharge summary's discharge diagnosis is a condition too.
        let discharge = try CDAFixtures.decode("Discharge_Summary_Discharge_Summary.xml").entries(.condition)
        #expect(discharge.contains { $0.code?.code == "74400008" && $0.summary == "Appendicitis" })
    }

    @Test("results: code, value and unit as written, time with its zone, and a null value left out")
    func results() throws {
        let record = try CDAFixtures.decode("CCD_CCD_1_CCD.XML")
        let haemoglobin = try record.entry(.testResult, code: "718-7")
        #expect(haemoglobin.code == Coding(system: Coding.System.loinc, code: "718-7", display: "Hemoglobin"))
        #expect(haemoglobin.value == Quantity(value: "13.2", unit: "g/dL"))
        #expect(haemoglobin.date?.text == "2008-03-19T08:30-08:00")
        #expect(haemoglobin.summary == "Hemoglobin: 13.2 g/dL")
        #expect(haemoglobin.status == "completed")
        let urea = try record.entry(.testResult, code: "3094-0")
        #expect(urea.value == nil)
        #expect(urea.summary == "Urea nitrogen, Serum")
        // A coded result value reads as its words.
        let ketones = try CDAFixtures.decode("sampleCCD.xml").entry(.testResult, code: "5797-6")
        #expect(ketones.value == nil)
        #expect(ketones.summary.hasSuffix(": Negative"))
    }

    @Test("vital signs are observations, from C-CDA organizers and from the plain CDA R2 sample alike")
    func vitalSigns() throws {
        let heartRate = try CDAFixtures.decode("sampleCCD.xml").entry(.observation, code: "8867-4")
        #expect(heartRate.value == Quantity(value: "80", unit: "/min"))
        #expect(heartRate.date?.text == "2015-06-22T10:10-05:00")
        let height = try CDAFixtures.decode("SampleCDADocument.xml").entry(.observation, code: "50373000")
        #expect(height.value == Quantity(value: "1.77", unit: "m"))
        #expect(height.date?.text == "2000-04-07T14:30")
        #expect(height.code?.system == Coding.System.snomedCT)
    }

    @Test("an id that several statements in one document share identifies none of them")
    func sharedStatementIds() throws {
        // The History and Physical sample gives its three CBC results the same id.
        let record = try CDAFixtures.decode("History_and_Physical_History_and_Physical.xml")
        let results = record.entries(.testResult)
        #expect(results.map { $0.code?.code } == ["30313-1", "33765-9", "26515-7"])
        #expect(Set(results.map(\.source.id)).count == 3)
        #expect(results.allSatisfy { $0.source.id.hasPrefix("2.16.840.1.113883.19.5.99999.1^TT988/#") })
        #expect(results.allSatisfy { $0.identifiers.isEmpty })
    }

    @Test("the encompassing encounter becomes an encounter entry under the document's source id")
    func encounter() throws {
        let encounter = try #require(try CDAFixtures.decode("Care_Plan_Care_Plan.xml").entries(.encounter).first)
        let actCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
        #expect(encounter.code == Coding(system: actCode, code: "IMP", display: "Inpatient"))
        #expect(encounter.date?.text == "2013-06-15")
        #expect(encounter.summary == "Inpatient — Good Health Hospital Care Plan")
        #expect(encounter.source.id.hasPrefix("db734647-fc99-424c-a864-7e3cda82e703/"))
        // Documents without componentOf have none.
        #expect(try CDAFixtures.decode("CCD_CCD_1_CCD.XML").entries(.encounter).isEmpty)
    }

    @Test("sections the gateway does not read (procedures, plans) yield no entries")
    func unreadSections() throws {
        let categories = Set(try CDAFixtures.decode("CCD_CCD_1_CCD.XML").entries.map(\.category))
        #expect(categories == [.document, .allergy, .medication, .condition, .testResult, .observation, .immunisation])
        let operative = try CDAFixtures.decode("Operative_Note_Operative_Note.xml")
        #expect(operative.entries.map(\.category) == [.document])
    }
}
