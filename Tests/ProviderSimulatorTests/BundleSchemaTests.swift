import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// The providers that still speak FHIR R4 XML: the trust's record and the GP. (Every provider's answers are
/// validated against their schemas in `ResponseSchemaTests`.)
@Suite("FHIR R4 bundles")
struct BundleSchemaTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)
    static let fhirProviders = [SimulatedProviderID.mhTrust, SimulatedProviderID.gp]

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

    @Test("exactly the trust's record and the GP serve FHIR, and bundle(for:) gives an empty searchset for the others")
    func fhirProvidersOnly() throws {
        #expect(Shared.definitions.filter { $0.format == .fhirR4XML }.map(\.id) == Self.fhirProviders)
        let demo = population.demoPatient
        for definition in Shared.definitions where definition.format != .fhirR4XML {
            let parsed = try ParsedBundle(simulator.bundle(for: definition.id, patient: demo.nhsNumber))
            #expect(parsed.root.name == "Bundle" && parsed.total == 0, "\(definition.id)")
            #expect(simulator.body(for: definition.id, patient: demo.nhsNumber) != nil)
        }
        for provider in Self.fhirProviders {
            #expect(simulator.bundle(for: provider, patient: demo.nhsNumber) == simulator.body(for: provider, patient: demo.nhsNumber))
        }
    }

    @Test("a bundle is a searchset: Patient first with the NHS number, every entry a match with an absolute fullUrl")
    func bundleShape() throws {
        let demo = population.demoPatient
        for provider in Self.fhirProviders {
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

    @Test("each FHIR provider serves exactly the resource types it holds, and across the population all of them")
    func resourceTypesPerProvider() throws {
        // The trust's discharge summaries and letters moved to its CDA feed; its FHIR record keeps the copies of
        // cardiac reports it was sent.
        let expected: [ProviderID: Set<String>] = [
            SimulatedProviderID.mhTrust: [
                "Appointment", "Encounter", "MedicationRequest", "AllergyIntolerance", "Observation",
                "DiagnosticReport", "DocumentReference", "CarePlan", "Condition",
            ],
            SimulatedProviderID.gp: [
                "MedicationStatement", "AllergyIntolerance", "Condition", "Observation", "Immunization", "Appointment",
            ],
        ]
        for (provider, types) in expected {
            var seen: Set<String> = []
            for patient in population.patients {
                seen.formUnion(try ParsedBundle(simulator.bundle(for: provider, patient: patient.nhsNumber)).resourceTypes)
            }
            #expect(seen == types.union(["Patient"]), "\(provider)")
        }
        for patient in population.patients {
            let documents = try ParsedBundle(simulator.bundle(for: SimulatedProviderID.mhTrust, patient: patient.nhsNumber))
                .resources("DocumentReference")
            #expect(documents.allSatisfy { $0.value("masterIdentifier", "value")?.hasPrefix("DOC-CARD-") == true })
        }
    }

    @Test("lab results are laboratory observations; GP repeats and acutes both appear")
    func categories() throws {
        var laboratory = 0, repeats = 0, acutes = 0
        for patient in population.patients {
            for provider in Self.fhirProviders {
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
        }
        #expect(laboratory > 50)
        #expect(repeats > 20 && acutes > 10)
    }
}
