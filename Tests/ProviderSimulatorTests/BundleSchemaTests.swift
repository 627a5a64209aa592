import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

@Suite("FHIR R4 bundles")
struct BundleSchemaTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)

    /// Every patient (the demo patient first): validating all 60 × 6 bundles takes well under a second.
    var sample: [SyntheticPatient] { population.patients }

    @Test("every provider's bundle validates against the official R4 XSD", arguments: SimulatedProviderID.all)
    func bundlesValidate(provider: ProviderID) throws {
        let schema = try Shared.fhirSchema.get()
        #expect(sample.count >= 10)
        for patient in sample {
            let bytes = simulator.bundle(for: provider, patient: patient.nhsNumber)
            let problems = schema.validate(bytes)
            #expect(problems.isEmpty, "\(provider) patient #\(patient.index): \(problems.prefix(3))")
        }
    }

    @Test("the bundle with every optional part (the demo patient at each provider) validates, and so does an empty one")
    func emptyBundleValidates() throws {
        let schema = try Shared.fhirSchema.get()
        let empty = simulator.bundle(for: SimulatedProviderID.gp, patient: Shared.strangerNHSNumber)
        #expect(schema.validate(empty).isEmpty)
        let parsed = try ParsedBundle(empty)
        #expect(parsed.total == 0)
        #expect(parsed.resources.isEmpty)
        #expect(parsed.root.value("type") == "searchset")
    }

    @Test("the schema check is real: the same bundle with two elements swapped is rejected")
    func schemaRejectsWrongOrder() throws {
        let schema = try Shared.fhirSchema.get()
        let bytes = simulator.bundle(for: SimulatedProviderID.gp, patient: population.demoPatient.nhsNumber)
        let bundle = String(decoding: bytes, as: UTF8.self)
        let typeAndTotal = "<type value=\"searchset\"/><total value=\"\(try #require(ParsedBundle(bytes).total))\"/>"
        #expect(bundle.contains(typeAndTotal))
        let swapped = bundle.replacingOccurrences(
            of: typeAndTotal,
            with: "<total value=\"\(try #require(ParsedBundle(bytes).total))\"/><type value=\"searchset\"/>")
        #expect(!schema.validate(Array(swapped.utf8)).isEmpty)
    }

    @Test("a bundle is a searchset: Patient first with the NHS number, every entry a match with an absolute fullUrl")
    func bundleShape() throws {
        let demo = population.demoPatient
        for provider in SimulatedProviderID.all {
            let parsed = try ParsedBundle(simulator.bundle(for: provider, patient: demo.nhsNumber))
            #expect(parsed.root.name == "Bundle" && parsed.root.namespace == "http://hl7.org/fhir")
            #expect(parsed.root.value("type") == "searchset")
            let entries = parsed.root.children("entry")
            #expect(parsed.total == entries.count)
            #expect(entries.count == demo.resources(at: provider).count + 1)
            let patient = try #require(parsed.resources.first)
            #expect(patient.name == "Patient")
            #expect(patient.value("identifier", "system") == "https://fhir.nhs.uk/Id/nhs-number")
            #expect(patient.value("identifier", "value") == demo.nhsNumber.digits)
            #expect(patient.value("name", "family") == demo.familyName)
            #expect(patient.value("birthDate") == demo.birthDate)
            for entry in entries {
                #expect(entry.value("search", "mode") == "match")
                let fullUrl = try #require(entry.value("fullUrl"))
                let resource = try #require(entry.child("resource")?.children.first)
                #expect(fullUrl.hasPrefix("https://") && fullUrl.hasSuffix("/\(resource.name)/\(resource.value("id") ?? "?")"))
            }
            let ids = parsed.resources.compactMap { $0.value("id") }
            #expect(Set(ids).count == ids.count, "resource ids are unique within a provider's bundle")
        }
    }

    @Test("each provider kind serves exactly the resource types it holds, and across the population all of them")
    func resourceTypesPerProvider() throws {
        let expected: [ProviderID: Set<String>] = [
            SimulatedProviderID.mhTrust: [
                "Appointment", "Encounter", "MedicationRequest", "AllergyIntolerance", "Observation",
                "DiagnosticReport", "DocumentReference", "CarePlan", "Condition",
            ],
            SimulatedProviderID.gp: [
                "MedicationStatement", "AllergyIntolerance", "Condition", "Observation", "Immunization", "Appointment",
            ],
            SimulatedProviderID.ambulance: ["Encounter", "Observation", "MedicationStatement"],
            SimulatedProviderID.nhs111: ["Encounter", "DocumentReference"],
            SimulatedProviderID.cardiac: ["Observation", "DocumentReference"],
            SimulatedProviderID.careHome: ["CarePlan", "MedicationStatement", "AllergyIntolerance", "Observation"],
        ]
        for (provider, types) in expected {
            var seen: Set<String> = []
            for patient in population.patients {
                seen.formUnion(try ParsedBundle(simulator.bundle(for: provider, patient: patient.nhsNumber)).resourceTypes)
            }
            #expect(seen == types.union(["Patient"]), "\(provider)")
        }
    }

    @Test("lab results are laboratory observations; ambulance vital signs are vital-signs; GP repeats and acutes both appear")
    func categories() throws {
        var laboratory = 0, vitalSigns = 0, repeats = 0, acutes = 0
        for patient in population.patients {
            for provider in [SimulatedProviderID.mhTrust, SimulatedProviderID.gp] {
                let parsed = try ParsedBundle(simulator.bundle(for: provider, patient: patient.nhsNumber))
                for observation in parsed.resources("Observation") {
                    #expect(observation.child("category")?.child("coding")?.value("system")
                        == "http://terminology.hl7.org/CodeSystem/observation-category")
                    #expect(observation.code("category") == "laboratory")
                    #expect(observation.child("identifier")?.value("system") == "https://fhir.caregate.example/Id/lab-accession")
                    laboratory += 1
                }
                for statement in parsed.resources("MedicationStatement") {
                    #expect(statement.code("medicationCodeableConcept") != nil)
                    #expect(statement.child("medicationCodeableConcept")?.child("coding")?.value("system") == Coding.System.dmd)
                    let note = statement.value("note", "text")
                    if note == "Repeat prescription" { repeats += 1 }
                    if note == "Acute prescription" { acutes += 1 }
                }
            }
            let ambulance = try ParsedBundle(simulator.bundle(for: SimulatedProviderID.ambulance, patient: patient.nhsNumber))
            for observation in ambulance.resources("Observation") where observation.code("code") == "8867-4" {
                #expect(observation.code("category") == "vital-signs")
                vitalSigns += 1
            }
        }
        #expect(laboratory > 50)
        #expect(vitalSigns > 10)
        #expect(repeats > 20 && acutes > 10)
    }

    @Test("every bundle in the population is well-formed XML")
    func everyBundleParses() throws {
        for patient in population.patients {
            for provider in SimulatedProviderID.all {
                _ = try ParsedBundle(simulator.bundle(for: provider, patient: patient.nhsNumber))
            }
        }
    }
}
