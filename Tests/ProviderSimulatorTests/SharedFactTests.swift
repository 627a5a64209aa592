import CareRecords
import ProviderSimulator
import Testing
import XMLSupport

/// The gateway's merge depends on providers sending the same fact the same way; these tests read the bundles as
/// the gateway would and check that what `sharedFacts` promises is really on the wire.
@Suite("Facts shared across providers")
struct SharedFactTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)

    private func bundle(_ provider: ProviderID, _ patient: SyntheticPatient) throws -> ParsedBundle {
        try ParsedBundle(simulator.bundle(for: provider, patient: patient.nhsNumber))
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

    @Test("the demo patient's unchanged discharge medicine is at the trust and the GP with the same code, display and dose")
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
            let code = try #require(fact.code.code)
            #expect(fact.code.system == Coding.System.dmd)
            let atTrust = try #require(medicines(trust, code: code).first)
            let atGP = try #require(medicines(gp, code: code).first)
            #expect(atTrust.dose == atGP.dose && atTrust.dose != nil)
            #expect(atTrust.display == atGP.display)
            #expect(atTrust.id != atGP.id, "each provider uses its own resource id")
            #expect(fact.values[SimulatedProviderID.gp] == atGP.dose)
        }
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

    @Test("the demo patient's allergy is recorded by GP, trust and care home with the same SNOMED substance")
    func allergyIsShared() throws {
        let demo = population.demoPatient
        let penicillin = "764146007"
        for provider in [SimulatedProviderID.gp, SimulatedProviderID.mhTrust, SimulatedProviderID.careHome] {
            let allergies = try bundle(provider, demo).resources("AllergyIntolerance")
            #expect(allergies.contains { $0.code("code") == penicillin }, "\(provider)")
        }
        let fact = try #require(demo.sharedFacts.first { $0.category == .allergy && $0.code.code == penicillin })
        #expect(fact.providers == [SimulatedProviderID.mhTrust, SimulatedProviderID.gp, SimulatedProviderID.careHome])
    }

    @Test("the demo patient's cardiac report is copied to the trust under the same document id")
    func documentIsShared() throws {
        let demo = population.demoPatient
        let fact = try #require(demo.sharedFacts.first { $0.category == .document })
        let id = try #require(fact.identifier)
        for provider in [SimulatedProviderID.cardiac, SimulatedProviderID.mhTrust] {
            let documents = try bundle(provider, demo).resources("DocumentReference")
            let copy = try #require(documents.first { $0.value("masterIdentifier", "value") == id.value }, "\(provider)")
            #expect(copy.code("type") == fact.code.code)
            #expect(copy.value("date") != nil)
        }
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
            #expect(trustDoses.count == 1 && gpDoses.count == 1)
            #expect(trustDoses != gpDoses, "patient #\(patient.index)")
        }
        #expect(population.demoPatient.hasDoseConflict, "the demo shows a conflict as well as clean merges")
    }

    @Test("shared facts are common across the population and every listed copy is really in each provider's bundle")
    func sharedFactsMatchTheBundles() throws {
        #expect(population.patients.filter { !$0.sharedFacts.isEmpty }.count >= population.patients.count / 2)
        for patient in population.patients where !patient.sharedFacts.isEmpty {
            var ids: [ProviderID: Set<String>] = [:]
            for provider in patient.knownProviders {
                ids[provider] = Set(try bundle(provider, patient).resources.compactMap { $0.value("id") })
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
}
