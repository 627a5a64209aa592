import CareRecords
import ProviderFormats
import Testing

/// Field-by-field checks against individual UK Core examples; the expected values are read off the files.
@Suite("UK Core examples, one by one")
struct UKCoreExampleTests {
    @Test("AllergyIntolerance: substance, recorded date, clinical status, reaction")
    func allergy() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-AllergyIntolerance-Amoxicillin-Example.xml")
        #expect(entry.category == .allergy)
        #expect(entry.code == Coding(system: Coding.System.snomedCT, code: "372687004", display: "Amoxicillin"))
        #expect(entry.date?.text == "2019-12-10T13:00:00+00:00")
        #expect(entry.status == "active")
        #expect(entry.summary == "Amoxicillin allergy — reaction: Urticarial rash")
        #expect(
            entry.source
                == SourceReference(
                    provider: UKCoreExamples.provider, id: "UKCore-AllergyIntolerance-Amoxicillin-Example"))
    }

    @Test("an allergy entered in error never reads as active")
    func allergyEnteredInError() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-AllergyIntolerance-EnteredInError-Example.xml")
        #expect(entry.status == "entered-in-error")
        #expect(entry.code?.code == "372687004")
        // Said first in the summary too, so a list that shows summaries alone cannot show it as an allergy.
        #expect(entry.summary.hasPrefix("Entered in error: "))
        #expect(entry.summary.contains("allergy"))
    }

    @Test("a concept that already names the allergy is not called an allergy twice")
    func noKnownAllergy() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-AllergyIntolerance-Sn-NegHandlNoKnownAllergies-Example.xml")
        #expect(entry.summary == "No known drug allergy (situation)")
    }

    @Test("lab Observation → test-result with value, unit, issued date and identifier")
    func labObservation() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Observation-Lab-Albumin-Example.xml")
        #expect(entry.category == .testResult)
        // Two SNOMED CT codings: the first is kept.
        #expect(
            entry.code
                == Coding(system: Coding.System.snomedCT, code: "1000821000000103", display: "Serum albumin level"))
        #expect(entry.value == Quantity(value: "47", unit: "g/L"))
        #expect(entry.date?.text == "2022-03-08T14:23:00+00:00")
        #expect(entry.status == "final")
        #expect(entry.summary == "Serum albumin level: 47 g/L")
        #expect(
            entry.identifiers == [
                EntryIdentifier(
                    system: "https://tools.ietf.org/html/rfc4122", value: "78443cb9-f248-44ef-9e6b-37fc4a592c1b")
            ])
    }

    @Test("a lab result without a value says why")
    func labAbsentData() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Observation-Lab-Sn-AbsentData-Example.xml")
        #expect(entry.category == .testResult)
        #expect(entry.value == nil)
        #expect(
            entry.summary
                == "Nucleated red blood cell count in blood: no value (Specimen unsatisfactory for evaluation)")
    }

    @Test("vital-signs Observation → observation; SNOMED CT preferred over LOINC; components in the summary")
    func bloodPressure() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Observation-VitalSigns-BloodPressure-Example.xml")
        #expect(entry.category == .observation)
        #expect(entry.code == Coding(system: Coding.System.snomedCT, code: "75367002", display: "Blood pressure"))
        #expect(entry.date?.text == "2023-08-10")
        #expect(entry.status == "final")
        #expect(entry.value == nil)
        #expect(
            entry.summary
                == "Blood pressure: Systolic arterial pressure 142 millimeter of mercury, Diastolic arterial pressure 94 millimeter of mercury"
        )
    }

    @Test("vital-signs Observation with a quantity")
    func bodyWeight() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Observation-VitalSigns-BodyWeight-Example.xml")
        #expect(entry.category == .observation)
        #expect(entry.code?.code == "27113001")
        #expect(entry.value == Quantity(value: "90", unit: "kilogram"))
        #expect(entry.summary == "Body weight: 90 kilogram")
    }

    @Test("Observation with a coded value")
    func codedValue() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Observation-PatientConsciousness-Example.xml")
        #expect(entry.summary == "Alert Confusion Voice Pain Unresponsive scale score: Responds to voice")
    }

    @Test("MedicationStatement: dm+d medicine, dose text, effective start before dateAsserted")
    func medicationStatement() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-MedicationStatement-Amoxicillin-Example.xml")
        #expect(entry.category == .medication)
        #expect(
            entry.code
                == Coding(system: Coding.System.dmd, code: "39732311000001104", display: "Amoxicillin 250mg capsules"))
        #expect(entry.dose == "2 capsules 4 times a day.")
        #expect(entry.date?.text == "2021-02-15T13:50:00+00:00")
        #expect(entry.status == "active")
        #expect(entry.summary == "Amoxicillin 250mg capsules — 2 capsules 4 times a day.")
        #expect(entry.identifiers.map(\.value) == ["ac0ffbdf-3289-41d5-84d9-068a1f5937db"])
    }

    @Test("MedicationRequest: medicine, dosage instruction, authoredOn, status")
    func medicationRequest() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-MedicationRequest-Amoxicillin-Example.xml")
        #expect(entry.category == .medication)
        #expect(
            entry.code
                == Coding(system: Coding.System.dmd, code: "39732411000001106", display: "Amoxicillin 500mg capsules"))
        #expect(entry.dose == "500mg - three times a day.")
        #expect(entry.date?.text == "2023-06-15T15:00:00.000Z")
        #expect(entry.status == "completed")
    }

    @Test("MedicationRequest whose Medication is not in the document still gives its dose")
    func unresolvedMedicationReference() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-MedicationRequest-EyeDrops-Example.xml")
        #expect(entry.code == nil)
        #expect(entry.dose == "1 drop in left eye, every 12 hours, until finished.")
        #expect(entry.summary == "MedicationRequest — 1 drop in left eye, every 12 hours, until finished.")
    }

    /// A completed dispense is a supply, not a medicine ended: its status must not read as the medicine's.
    @Test("MedicationDispense: medicine, instructions, when prepared, what was supplied; no status of the medicine")
    func medicationDispense() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-MedicationDispense-Amoxicillin-Example.xml")
        #expect(entry.category == .medication)
        #expect(!entry.administered)
        #expect(entry.code?.code == "22608811000001102")
        #expect(entry.dose == "Take 1 capsule, 3 times a day.")
        #expect(entry.date?.text == "2023-06-15T18:00:00+00:00")
        #expect(entry.status == nil)
        #expect(
            entry.summary
                == "Amoxicillin 500mg capsules (DE Pharmaceuticals) — Take 1 capsule, 3 times a day.; "
                + "dispensed 21 capsule, 7 Day supply")
        let pending = try UKCoreExamples.onlyEntry("UKCore-MedicationDispense-EyeDrops-Example.xml")
        #expect(pending.summary.hasSuffix("; dispense in progress"))
        #expect(pending.status == nil)

        // A dispense recorded in error is withdrawn, and says so first.
        let text = String(decoding: try UKCoreExamples.bytes("UKCore-MedicationDispense-Amoxicillin-Example.xml"), as: UTF8.self)
        let withdrawn = text.replacingOccurrences(
            of: #"<status value="completed" />"#, with: #"<status value="entered-in-error" />"#)
        #expect(withdrawn != text)
        let recordedInError = try #require(
            try FHIRR4XMLDecoder().decode(Array(withdrawn.utf8), from: UKCoreExamples.provider).entries.first)
        #expect(recordedInError.status == "entered-in-error")
        #expect(recordedInError.standing == .withdrawn)
        #expect(recordedInError.summary == "Entered in error: Amoxicillin 500mg capsules (DE Pharmaceuticals) — Take 1 capsule, 3 times a day.")
    }

    @Test("MedicationAdministration: a dose given at its time, the dose from its quantity, the route in the summary")
    func medicationAdministration() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-MedicationAdministration-CiprofloxacinIV-Example.xml")
        #expect(entry.category == .medication)
        #expect(entry.administered)
        #expect(entry.code?.code == "35831211000001109")
        #expect(entry.dose == "400 milligram")
        #expect(entry.date?.text == "2023-06-30T13:00:00+00:00")
        #expect(entry.status == "completed")
        #expect(
            entry.summary
                == "Ciprofloxacin 400mg/200ml infusion bags (Hikma Pharmaceuticals International Ltd) — 400 milligram; "
                + "given (Intravenous)")
        #expect(entry.identifiers.map(\.value) == ["504cdccf-203d-4023-af47-5351e283aee7"])
    }

    /// A line read alone must never pass a dose withheld for one given.
    @Test("MedicationAdministration on hold says so, and keeps its dosage text")
    func medicationAdministrationOnHold() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-MedicationAdministration-Sn-ZeroDosage-Example.xml")
        #expect(entry.administered)
        #expect(entry.status == "on-hold")
        #expect(entry.summary == "MedicationAdministration — No administration required.; on hold")
        #expect(try !UKCoreExamples.onlyEntry("UKCore-MedicationStatement-Amoxicillin-Example.xml").administered)
    }

    @Test("Immunization: vaccine, occurrence date, status, dose number")
    func immunization() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Immunization-Sn-ProtocolApplied-Example.xml")
        #expect(entry.category == .immunisation)
        #expect(entry.code?.system == Coding.System.dmd)
        #expect(entry.code?.code == "39114911000001105")
        #expect(entry.date?.text == "2021-07-20")
        #expect(entry.status == "completed")
        #expect(entry.summary.hasPrefix("COVID-19 Vaccine Vaxzevria"))
        #expect(entry.summary.hasSuffix(" — dose 1"))
    }

    @Test("Immunization not done: the summary says the vaccine was not given, and why")
    func immunizationNotDone() throws {
        let text = String(decoding: try UKCoreExamples.bytes("UKCore-Immunization-Sn-ProtocolApplied-Example.xml"), as: UTF8.self)
        #expect(text.contains(#"<status value="completed" />"#))
        let notDone = text.replacingOccurrences(
            of: #"<status value="completed" />"#,
            with: #"""
                <status value="not-done"/><statusReason><coding><system value="http://snomed.info/sct"/>\#
                <code value="591000119102"/><display value="Vaccine refused by patient"/></coding></statusReason>
                """#)
        let record = try FHIRR4XMLDecoder().decode(Array(notDone.utf8), from: UKCoreExamples.provider)
        try #require(record.entries.count == 1)
        let entry = record.entries[0]
        #expect(entry.status == "not-done")
        #expect(entry.summary.hasPrefix("COVID-19 Vaccine Vaxzevria"))
        #expect(entry.summary.hasSuffix(" — not given: Vaccine refused by patient; dose 1"))
    }

    @Test("Encounter: type, period start, status, class and reason in the summary")
    func encounter() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Encounter-InpatientEncounter-Example.xml")
        #expect(entry.category == .encounter)
        #expect(
            entry.code == Coding(system: Coding.System.snomedCT, code: "185212007", display: "Seen in hospital ward"))
        #expect(entry.date?.text == "2019-12-10T13:00:00+00:00")
        #expect(entry.status == "finished")
        #expect(entry.summary == "Seen in hospital ward (inpatient encounter) — reason: General treatment")
        #expect(entry.identifiers.map(\.value) == ["6f40cebe-7b55-461d-9d7f-eadb4c065762"])
    }

    @Test("Encounter with only a class: the class (a Coding) is its code")
    func encounterClassOnly() throws {
        let entry = try UKCoreExamples.onlyEntry("Extension-UKCore-DischargeMethod-Example.xml")
        #expect(
            entry.code
                == Coding(
                    system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "IMP",
                    display: "inpatient encounter"))
        #expect(entry.summary == "inpatient encounter")
    }

    @Test("Appointment: service type, start, status, description")
    func appointment() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-Appointment-OrthopaedicSurgery-Example.xml")
        #expect(entry.category == .appointment)
        #expect(
            entry.code
                == Coding(
                    system: "http://terminology.hl7.org/CodeSystem/service-type", code: "218",
                    display: "Orthopaedic Surgery"))
        #expect(entry.date?.text == "2022-03-11T10:46:00+00:00")
        #expect(entry.status == "booked")
        #expect(entry.summary == "Appointment to investigate the pain in both hips")
    }

    @Test("DocumentReference: docStatus before status, type, date, attachment title")
    func documentReference() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-DocumentReference-ECG-Example.xml")
        #expect(entry.category == .document)
        #expect(entry.code?.code == "29303009")
        #expect(entry.date?.text == "2025-01-24T14:30:00Z")
        #expect(entry.status == "preliminary")
        #expect(entry.summary == "Electrocardiographic procedure — Electrocardiogram (ECG) Report")
    }

    @Test("CarePlan: a category with only text, created date when the period has no start")
    func carePlan() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-CarePlan-WellnessPlan-Example.xml")
        #expect(entry.category == .carePlan)
        #expect(entry.code == Coding(display: "Weight management plan"))
        #expect(entry.date?.text == "2020-02-01")
        #expect(entry.status == "active")
        #expect(entry.summary == "Manage obesity and weight loss")
    }

    @Test("DiagnosticReport: code, effective date, conclusion")
    func diagnosticReport() throws {
        let entry = try UKCoreExamples.onlyEntry("UKCore-DiagnosticReport-DiagnosticStudiesReport-Example.xml")
        #expect(entry.category == .testResult)
        #expect(entry.code?.code == "721981007")
        #expect(entry.date?.text == "2023-01-13T14:53:23+00:00")
        #expect(entry.status == "final")
        #expect(entry.summary.hasPrefix("Diagnostic studies report — Mild soft tissue injury"))
    }

    @Test("Condition: code, clinical status; a text-only code keeps its text")
    func condition() throws {
        let coded = try UKCoreExamples.onlyEntry("UKCore-Condition-BleedingFromEar-Example.xml")
        #expect(coded.category == .condition)
        #expect(coded.code == Coding(system: Coding.System.snomedCT, code: "26322001", display: "Bleeding from ear"))
        #expect(coded.status == "active")
        #expect(coded.summary == "Bleeding from ear")

        let textOnly = try UKCoreExamples.onlyEntry("Extension-UKCore-CodingSCT-CodeUnknown-Example.xml")
        #expect(textOnly.code == Coding(display: "Myocardial infarction"))
        #expect(textOnly.summary == "Myocardial infarction")
    }

    @Test("Patient → demographics: NHS number, official name, birth date, gender; no entries")
    func patient() throws {
        let record = try UKCoreExamples.decode("UKCore-Patient-RichardSmith-Example.xml")
        #expect(record.entries.isEmpty)
        #expect(
            record.patient
                == PatientDemographics(
                    nhsNumber: try NHSNumber("9912003888"), givenName: "Richard", familyName: "SMITH",
                    birthDate: ClinicalDate("1970-09-11"), gender: "male"))
    }
}
