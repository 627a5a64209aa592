import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// The CDA feeds: the trust's discharge summaries and letters, and NHS 111's post-event messages, read as a
/// gateway's CDA decoder would read them and compared with what the population says each provider holds.
@Suite("CDA documents")
struct CDADocumentTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)

    static let cdaProviders = [SimulatedProviderID.mhTrustDocuments, SimulatedProviderID.nhs111]
    static let loinc = "2.16.840.1.113883.6.1"
    static let snomed = "2.16.840.1.113883.6.96"
    static let dmd = "1.2.826.0.1285.0.2.0.4"
    static let ods = "2.16.840.1.113883.2.1.3.2.4.19.1"
    static let nhsNumber = "2.16.840.1.113883.2.1.4.1"

    private func documents(_ provider: ProviderID, _ patient: SyntheticPatient) throws -> [XMLElement] {
        try ParsedDocuments(simulator.served(provider, patient.nhsNumber)).documents
    }

    private func heldDocuments(_ provider: ProviderID, _ patient: SyntheticPatient) -> [SimulatedDocument] {
        patient.resources(at: provider).compactMap { if case .document(let document) = $0 { document } else { nil } }
            .sorted { $0.date < $1.date }
    }

    /// An HL7 TS for a FHIR date or dateTime, as the documents must write it.
    private func ts(_ fhir: String) -> String {
        let digits = String(fhir.prefix(19).filter(\.isNumber))
        return digits.count > 8 ? digits + "+0000" : digits
    }

    private func sections(_ document: XMLElement) -> [XMLElement] {
        document.at("component", "structuredBody")?.children("component").compactMap { $0.child("section") } ?? []
    }

    @Test("the header has every required part, with NHS number, ODS codes and HL7 timestamps", arguments: cdaProviders)
    func header(provider: ProviderID) throws {
        let definition = Shared.definition(provider)
        var seen = 0
        for patient in population.patients where patient.isKnown(to: provider) {
            let held = heldDocuments(provider, patient)
            let served = try documents(provider, patient)
            #expect(served.count == held.count && !held.isEmpty, "patient #\(patient.index)")
            for (document, expected) in zip(served, held) {
                seen += 1
                #expect(document.namespace == "urn:hl7-org:v3")
                #expect(document.child("realmCode")?.attribute("code") == "GB")
                #expect(document.child("typeId")?.attribute("root") == "2.16.840.1.113883.1.3")
                #expect(document.child("typeId")?.attribute("extension") == "POCD_HD000040")
                #expect(document.child("templateId")?.attribute("root")?.hasPrefix("2.999.0.") == true)
                let id = try #require(document.child("id"))
                #expect(id.attribute("root")?.wholeMatch(of: /[0-2](\.(0|[1-9][0-9]*))+/) != nil)
                #expect(id.attribute("extension") == expected.id)
                #expect(document.child("code")?.attribute("code") == expected.type.code)
                #expect(document.child("code")?.attribute("codeSystem") == Self.loinc)
                #expect(document.child("title")?.text == expected.title)
                let effective = try #require(document.child("effectiveTime")?.attribute("value"))
                #expect(effective.wholeMatch(of: /[0-9]{14}\+0000/) != nil)
                #expect(effective == ts(expected.date))
                #expect(document.child("confidentialityCode")?.attribute("code") == "N")
                #expect(document.child("languageCode")?.attribute("code") == "en-GB")

                let role = try #require(document.at("recordTarget", "patientRole"))
                #expect(role.child("id")?.attribute("root") == Self.nhsNumber)
                #expect(role.child("id")?.attribute("extension") == patient.nhsNumber.digits)
                #expect(role.at("patient", "name", "given")?.text == patient.givenName)
                #expect(role.at("patient", "name", "family")?.text == patient.familyName)
                #expect(role.at("patient", "administrativeGenderCode")?.attribute("code") == (patient.gender == "female" ? "F" : "M"))
                #expect(role.at("patient", "birthTime")?.attribute("value") == ts(patient.birthDate))

                let author = try #require(document.child("author"))
                #expect(author.child("time")?.attribute("value") == ts(expected.date))
                #expect(author.at("assignedAuthor", "id")?.attribute("extension")?.isEmpty == false)
                for organisation in [
                    author.at("assignedAuthor", "representedOrganization"),
                    document.at("custodian", "assignedCustodian", "representedCustodianOrganization"),
                ] {
                    #expect(organisation?.child("id")?.attribute("root") == Self.ods)
                    #expect(organisation?.child("id")?.attribute("extension") == definition.odsCode)
                    #expect(organisation?.child("name")?.text == definition.name)
                }
            }
        }
        #expect(seen >= 10)
    }

    @Test("the discharge summary's medicines are dm+d-coded entries whose text is the dose, pointing at the narrative cell that says it")
    func dischargeMedicines() throws {
        var summaries = 0, medicines = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.mhTrustDocuments) {
            let held = heldDocuments(SimulatedProviderID.mhTrustDocuments, patient)
            for (document, expected) in zip(try documents(SimulatedProviderID.mhTrustDocuments, patient), held)
            where expected.type.code == "18842-5" {
                summaries += 1
                #expect(document.child("code")?.attribute("displayName") == "Discharge summary")
                let section = try #require(sections(document).first { $0.child("code")?.attribute("code") == "10160-0" })
                #expect(section.child("code")?.attribute("codeSystem") == Self.loinc)
                let cells = Dictionary(
                    section.descendants.filter { $0.name == "td" && $0.attribute("ID") != nil }.map { ($0.attribute("ID")!, $0.text) },
                    uniquingKeysWith: { first, _ in first })
                let entries = section.children("entry").compactMap { $0.child("substanceAdministration") }
                #expect(entries.count == expected.medications.count)
                for (entry, medicine) in zip(entries, expected.medications) {
                    medicines += 1
                    #expect(entry.attribute("classCode") == "SBADM")
                    #expect(entry.child("id")?.attribute("extension") == medicine.id)
                    let code = try #require(entry.at("consumable", "manufacturedProduct", "manufacturedMaterial", "code"))
                    #expect(code.attribute("codeSystem") == Self.dmd)
                    #expect(code.attribute("code") == medicine.medicine.code)
                    #expect(code.attribute("displayName") == medicine.medicine.display)
                    let text = try #require(entry.child("text"))
                    #expect(text.text == medicine.dosageText)
                    let reference = try #require(text.child("reference")?.attribute("value"))
                    #expect(reference.hasPrefix("#med-"))
                    #expect(cells[String(reference.dropFirst())] == medicine.dosageText)
                }
            }
        }
        #expect(summaries >= 5 && medicines >= 10)
    }

    @Test("allergies and problems sections appear exactly when the trust holds some, with SNOMED-coded entries")
    func allergiesAndProblems() throws {
        var allergySections = 0, problemSections = 0, summariesWithoutAllergies = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.mhTrustDocuments) {
            let held = heldDocuments(SimulatedProviderID.mhTrustDocuments, patient)
            for (document, expected) in zip(try documents(SimulatedProviderID.mhTrustDocuments, patient), held) {
                let allergies = sections(document).first { $0.child("code")?.attribute("code") == "48765-2" }
                let problems = sections(document).first { $0.child("code")?.attribute("code") == "11450-4" }
                #expect((allergies != nil) == !expected.allergies.isEmpty)
                #expect((problems != nil) == !expected.problems.isEmpty)
                if expected.type.code == "18842-5" && expected.allergies.isEmpty { summariesWithoutAllergies += 1 }
                if let allergies {
                    allergySections += 1
                    let substances = allergies.children("entry").compactMap {
                        $0.at("observation", "participant", "participantRole", "playingEntity", "code")
                    }
                    #expect(substances.map { $0.attribute("code") } == expected.allergies.map(\.substance.code))
                    #expect(substances.allSatisfy { $0.attribute("codeSystem") == Self.snomed })
                }
                if let problems {
                    problemSections += 1
                    let values = problems.children("entry").compactMap { $0.at("observation", "value") }
                    #expect(values.map { $0.attribute("code") } == expected.problems.map(\.code.code))
                    #expect(values.allSatisfy { $0.attribute("codeSystem") == Self.snomed })
                }
            }
        }
        #expect(allergySections >= 3 && problemSections >= 10 && summariesWithoutAllergies >= 3)
    }

    @Test("clinic letters are consult notes with narrative only, belonging to their clinic encounter")
    func letters() throws {
        var letters = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.mhTrustDocuments) {
            let held = heldDocuments(SimulatedProviderID.mhTrustDocuments, patient)
            for (document, expected) in zip(try documents(SimulatedProviderID.mhTrustDocuments, patient), held)
            where expected.type.code == "11488-4" {
                letters += 1
                #expect(document.child("code")?.attribute("displayName") == "Consult note")
                #expect(!document.descendants.contains { $0.name == "entry" })
                let paragraphs = sections(document).flatMap { $0.descendants.filter { $0.name == "paragraph" } }
                #expect(paragraphs.contains { $0.text.contains("Mental state settled") })
                #expect(document.at("componentOf", "encompassingEncounter", "id")?.attribute("extension") == expected.encounterID)
            }
        }
        #expect(letters >= 30)
    }

    @Test("NHS 111 sends one post-event message per call: the call as encompassing encounter, then reason, disposition, advice, referral")
    func postEventMessages() throws {
        var calls = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.nhs111) {
            let held = patient.resources(at: SimulatedProviderID.nhs111).compactMap {
                if case .encounter(let call) = $0 { call } else { nil }
            }
            let served = try documents(SimulatedProviderID.nhs111, patient)
            #expect(served.count == held.count)
            for document in served {
                calls += 1
                #expect(document.child("code")?.attribute("code") == "34748-4")
                let encounter = try #require(document.at("componentOf", "encompassingEncounter"))
                let call = try #require(held.first { $0.id == encounter.child("id")?.attribute("extension") })
                let reason = try #require(call.reason)
                #expect(encounter.child("code")?.attribute("code") == reason.code)
                #expect(encounter.child("code")?.attribute("codeSystem") == Self.snomed)
                #expect(encounter.at("effectiveTime", "low")?.attribute("value") == ts(call.start))
                #expect(encounter.at("effectiveTime", "high")?.attribute("value") == call.end.map(ts))
                let parts = sections(document)
                #expect(parts.map { $0.child("title")?.text } == ["Reason for call", "Disposition", "Advice given", "Onward referral"])
                func paragraph(_ index: Int) -> String? { parts[index].at("text", "paragraph")?.text }
                #expect(paragraph(0) == "\(reason.display ?? "").")
                #expect(paragraph(1) == "\(call.outcome ?? "?").")
                #expect(paragraph(2)?.hasPrefix("Worsening advice given") == true)
                #expect(paragraph(3)?.isEmpty == false)
            }
        }
        #expect(calls >= 20)
    }

    @Test("documents come oldest first; a patient the provider does not know gets an empty wrapper")
    func orderAndEmpty() throws {
        for provider in Self.cdaProviders {
            for patient in population.patients where patient.isKnown(to: provider) {
                let times = try documents(provider, patient).compactMap { $0.child("effectiveTime")?.attribute("value") }
                #expect(times == times.sorted())
            }
            let empty = try ParsedDocuments(simulator.served(provider, Shared.strangerNHSNumber))
            #expect(empty.root.name == "Documents" && empty.root.children.isEmpty)
        }
    }
}
