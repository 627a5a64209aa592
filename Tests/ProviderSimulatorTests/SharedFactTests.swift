import CareRecords
import ProviderSimulator
import Testing
import XMLSupport

/// The gateway's merge depends on providers sending the same fact the same way, whatever their format; these tests
/// read the answers as the gateway would and check that what `sharedFacts` promises is really on the wire.
@Suite("Facts shared across providers")
struct SharedFactTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)

    private func bundle(_ provider: ProviderID, _ patient: SyntheticPatient) throws -> ParsedBundle {
        try ParsedBundle(simulator.bundle(for: provider, patient: patient.nhsNumber))
    }

    private func served(_ provider: ProviderID, _ patient: SyntheticPatient) throws -> XMLElement {
        try SafeXMLParser.parse(simulator.served(provider, patient.nhsNumber))
    }

    /// The trust's CDA discharge medicines coding `code` (dm+d), with the dose text each entry carries.
    private func cdaMedicines(_ patient: SyntheticPatient, code: String) throws -> [(id: String?, dose: String)] {
        let documents = try served(SimulatedProviderID.mhTrustDocuments, patient).children("ClinicalDocument")
        return documents.flatMap(\.descendants).filter { $0.name == "substanceAdministration" }.compactMap { entry in
            let material = entry.at("consumable", "manufacturedProduct", "manufacturedMaterial", "code")
            guard material?.attribute("code") == code, material?.attribute("codeSystem") == "1.2.826.0.1285.0.2.0.4",
                let dose = entry.child("text")?.text
            else { return nil }
            return (entry.child("id")?.attribute("extension"), dose)
        }
    }

    /// Medication resources (request or statement) coding `code`, with their dose text.
    private func medicines(_ parsed: ParsedBundle, code: String) -> [(id: String?, dose: String?, display: String?)] {
        (parsed.resources("MedicationRequest") + parsed.resources("MedicationStatement")).compactMap { resource in
            let coding = resource.child("medicationCodeableConcept")?.child("coding")
            guard coding?.value("code") == code else { return nil }
            let dosage = resource.child("dosageInstruction") ?? resource.child("dosage")
            return (resource.value("id"), dosage?.value("text"), coding?.value("display"))
        }
    }

    @Test("the demo patient's unchanged discharge medicine is at the trust (FHIR and CDA) and the GP with the same dm+d code and dose")
    func dischargeMedicineIsShared() throws {
        let demo = population.demoPatient
        let trust = try bundle(SimulatedProviderID.mhTrust, demo)
        let gp = try bundle(SimulatedProviderID.gp, demo)
        let discharged = trust.resources("MedicationRequest")
        #expect(!discharged.isEmpty)
        #expect(discharged.allSatisfy { $0.code("category") == "discharge" })

        let sharedMedicines = demo.sharedFacts.filter {
            $0.category == .medication && $0.agreement == .identical
                && $0.providers.contains(SimulatedProviderID.mhTrust) && $0.providers.contains(SimulatedProviderID.gp)
        }
        #expect(!sharedMedicines.isEmpty)
        for fact in sharedMedicines {
            // The trust's FHIR prescription and its discharge summary are two copies of one prescription: three in all.
            #expect(
                Set([SimulatedProviderID.mhTrust, SimulatedProviderID.mhTrustDocuments, SimulatedProviderID.gp])
                    .isSubset(of: fact.providers))
            let code = try #require(fact.code.code)
            #expect(fact.code.system == Coding.System.dmd)
            let atTrust = try #require(medicines(trust, code: code).first)
            let atGP = try #require(medicines(gp, code: code).first)
            let inSummary = try #require(try cdaMedicines(demo, code: code).first)
            #expect(atTrust.dose == atGP.dose && atTrust.dose != nil)
            #expect(inSummary.dose == atGP.dose)
            #expect(inSummary.id == fact.resourceIDs[SimulatedProviderID.mhTrustDocuments])
            #expect(atTrust.display == atGP.display)
            #expect(atTrust.id != atGP.id, "each provider uses its own resource id")
            #expect(fact.values[SimulatedProviderID.gp] == atGP.dose)
        }
    }

    @Test("across the population, every discharge medicine the GP records unchanged has the same dm+d code and dose text in the trust's CDA")
    func dischargeMedicinesAcrossPopulation() throws {
        var checked = 0
        for patient in population.patients {
            for fact in patient.sharedFacts where fact.category == .medication && fact.agreement == .identical
                && fact.providers.contains(SimulatedProviderID.mhTrustDocuments) && fact.providers.contains(SimulatedProviderID.gp)
            {
                let code = try #require(fact.code.code)
                let gpDoses = medicines(try bundle(SimulatedProviderID.gp, patient), code: code).compactMap(\.dose)
                let summaryDoses = try cdaMedicines(patient, code: code).map(\.dose)
                #expect(!gpDoses.isEmpty && gpDoses == summaryDoses, "patient #\(patient.index)")
                checked += 1
            }
        }
        #expect(checked >= 10)
    }

    @Test("the demo patient's shared blood tests carry the same accession, code, value, unit and time at trust and GP")
    func bloodTestIsShared() throws {
        let demo = population.demoPatient
        let trust = try bundle(SimulatedProviderID.mhTrust, demo)
        let gp = try bundle(SimulatedProviderID.gp, demo)
        let sharedResults = demo.sharedFacts.filter { $0.category == .testResult }
        #expect(sharedResults.count >= 2)
        for fact in sharedResults {
            let accession = try #require(fact.identifier)
            #expect(accession.system == "https://fhir.caregate.example/Id/lab-accession")
            #expect(accession.value.hasPrefix("LAB-"))
            func observation(in parsed: ParsedBundle) -> XMLElement? {
                parsed.resources("Observation").first { $0.value("identifier", "value") == accession.value }
            }
            let atTrust = try #require(observation(in: trust))
            let atGP = try #require(observation(in: gp))
            for path in [["code", "coding", "code"], ["valueQuantity", "value"], ["valueQuantity", "code"],
                         ["effectiveDateTime"], ["identifier", "system"]]
            {
                let trustValue = path.reduce(Optional(atTrust)) { $0?.child($1) }?.attribute("value")
                let gpValue = path.reduce(Optional(atGP)) { $0?.child($1) }?.attribute("value")
                #expect(trustValue != nil && trustValue == gpValue, "\(path)")
            }
            #expect(atTrust.value("id") != atGP.value("id"))
        }
        // The trust's DiagnosticReport points at its own copies of the results.
        let report = try #require(trust.resources("DiagnosticReport").first)
        let referenced = Set(report.children("result").compactMap { $0.value("reference") })
        let trustIDs = Set(trust.resources("Observation").compactMap { $0.value("id") }.map { "Observation/\($0)" })
        #expect(!referenced.isEmpty && referenced.isSubset(of: trustIDs))
    }

    @Test("the demo patient's allergy has the same SNOMED substance at GP and trust (FHIR), trust (CDA) and care home (bespoke)")
    func allergyIsShared() throws {
        let demo = population.demoPatient
        let penicillin = "764146007"
        for provider in [SimulatedProviderID.gp, SimulatedProviderID.mhTrust] {
            let allergies = try bundle(provider, demo).resources("AllergyIntolerance")
            #expect(allergies.contains { $0.code("code") == penicillin && $0.child("code")?.child("coding")?.value("system") == Coding.System.snomedCT }, "\(provider)")
        }
        let summary = try served(SimulatedProviderID.mhTrustDocuments, demo).descendants.filter { $0.name == "playingEntity" }
        #expect(summary.contains { $0.child("code")?.attribute("code") == penicillin && $0.child("code")?.attribute("codeSystem") == "2.16.840.1.113883.6.96" })
        let careHome = try served(SimulatedProviderID.careHome, demo).descendants.filter { $0.name == "Allergy" }
        #expect(careHome.contains { $0.child("Substance")?.attribute("code") == penicillin })
        let fact = try #require(demo.sharedFacts.first { $0.category == .allergy && $0.code.code == penicillin })
        #expect(fact.code.system == Coding.System.snomedCT)
        #expect(fact.providers == [SimulatedProviderID.mhTrust, SimulatedProviderID.mhTrustDocuments, SimulatedProviderID.gp, SimulatedProviderID.careHome])
    }

    @Test("the demo patient's cardiac report is in the cardiac service's summary and the trust's record under the same document id")
    func documentIsShared() throws {
        let demo = population.demoPatient
        let fact = try #require(demo.sharedFacts.first { $0.category == .document })
        let id = try #require(fact.identifier)
        #expect(fact.providers == [SimulatedProviderID.mhTrust, SimulatedProviderID.cardiac])
        let trustCopy = try #require(
            try bundle(SimulatedProviderID.mhTrust, demo).resources("DocumentReference").first {
                $0.value("masterIdentifier", "value") == id.value
            })
        #expect(trustCopy.value("masterIdentifier", "system") == id.system)
        #expect(trustCopy.code("type") == fact.code.code)
        let report = try #require(try served(SimulatedProviderID.cardiac, demo).descendants.first { $0.name == "Report" })
        #expect(report.child("DocumentId")?.text == id.value)
        #expect(report.child("DocumentId")?.attribute("system") == id.system)
        #expect(report.child("Type")?.attribute("code") == fact.code.code)
        #expect(report.attribute("id") == fact.resourceIDs[SimulatedProviderID.cardiac])
    }

    @Test("the care home's medication administration record has the GP's dm+d code and dose text for every medicine both hold")
    func careHomeFollowsTheGP() throws {
        var checked = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.careHome) && patient.isKnown(to: SimulatedProviderID.gp) {
            let gp = try bundle(SimulatedProviderID.gp, patient)
            for medicine in try served(SimulatedProviderID.careHome, patient).descendants.filter({ $0.name == "Medicine" }) {
                let code = try #require(medicine.child("DmdCode")?.text)
                let gpDoses = medicines(gp, code: code).compactMap(\.dose)
                guard !gpDoses.isEmpty else { continue }  // a when-required medicine only the home gives
                #expect(gpDoses.contains(medicine.child("Dose")?.text ?? "?"), "patient #\(patient.index) \(code)")
                checked += 1
            }
        }
        #expect(checked >= 15)
    }

    @Test("some patients have a dose near-match: same medicine at trust and GP, different dose text, flagged as a conflict")
    func doseNearMatch() throws {
        let nearMatches = population.patients.filter(\.hasDoseConflict)
        #expect(nearMatches.count >= 3)
        #expect(nearMatches.count <= population.patients.count / 5, "a minority, about one in ten")
        for patient in nearMatches {
            let conflict = try #require(patient.sharedFacts.first { $0.agreement == .conflicting(field: "dose") })
            let code = try #require(conflict.code.code)
            let trustDoses = medicines(try bundle(SimulatedProviderID.mhTrust, patient), code: code).compactMap(\.dose)
            let gpDoses = medicines(try bundle(SimulatedProviderID.gp, patient), code: code).compactMap(\.dose)
            let summaryDoses = try cdaMedicines(patient, code: code).map(\.dose)
            #expect(trustDoses.count == 1 && gpDoses.count == 1)
            #expect(trustDoses != gpDoses, "patient #\(patient.index)")
            #expect(summaryDoses == trustDoses, "the discharge summary says what the trust prescribed")
        }
        #expect(population.demoPatient.hasDoseConflict, "the demo shows a conflict as well as clean merges")
    }

    @Test("shared facts are common across the population and every listed copy is really in each provider's answer")
    func sharedFactsMatchTheAnswers() throws {
        #expect(population.patients.filter { !$0.sharedFacts.isEmpty }.count >= population.patients.count / 2)
        for patient in population.patients where !patient.sharedFacts.isEmpty {
            var ids: [ProviderID: Set<String>] = [:]
            for provider in patient.knownProviders {
                ids[provider] = try recordIDs(served(provider, patient))
            }
            for fact in patient.sharedFacts {
                #expect(fact.providers.count >= 2)
                for provider in fact.providers {
                    let id = try #require(fact.resourceIDs[provider])
                    #expect(ids[provider]?.contains(id) == true, "patient #\(patient.index) \(fact)")
                }
            }
        }
    }

    /// The ids a provider gives its records: FHIR resource ids, CDA `id` extensions, bespoke `id` attributes.
    private func recordIDs(_ root: XMLElement) -> Set<String> {
        var ids: Set<String> = []
        for element in root.descendants {
            if element.namespace == "http://hl7.org/fhir", element.name == "id", let value = element.attribute("value") {
                ids.insert(value)
            } else if element.namespace == "urn:hl7-org:v3", element.name == "id", let value = element.attribute("extension") {
                ids.insert(value)
            } else if let value = element.attribute("id") {
                ids.insert(value)
            }
        }
        return ids
    }
}
