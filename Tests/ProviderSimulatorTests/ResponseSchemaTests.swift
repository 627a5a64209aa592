import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// Every answer every provider gives, for every patient, against the schema of its format: FHIR R4 for the FHIR
/// feeds, CDA R2 (SDTC) for each ClinicalDocument of the CDA feeds, and the bespoke XSDs in `schemas/` for the
/// others. Each schema is loaded once (`Shared`).
@Suite("Every response validates against its format's schema")
struct ResponseSchemaTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)

    @Test("across the whole population (the demo patient first) and for a stranger", arguments: Shared.definitions)
    func validates(definition: SimulatedProviderDefinition) throws {
        let schema = try Shared.schema(for: definition)
        #expect(population.patients.count >= 10 && population.patients[0] == population.demoPatient)
        var checked = 0
        for nhsNumber in population.patients.map(\.nhsNumber) + [Shared.strangerNHSNumber] {
            let body = try simulator.served(definition.id, nhsNumber)
            if definition.format == .cda {
                let parsed = try ParsedDocuments(body)
                #expect(parsed.root.name == "Documents" && parsed.root.namespace == "urn:caregate:simulator:documents:1")
                #expect(parsed.root.children.allSatisfy { $0.name == "ClinicalDocument" })
                #expect(parsed.documentBytes.count == parsed.documents.count)
                for document in parsed.documentBytes {
                    let problems = schema.validate(document)
                    #expect(problems.isEmpty, "\(definition.id) \(nhsNumber): \(problems.prefix(3))")
                    checked += 1
                }
            } else {
                let problems = schema.validate(body)
                #expect(problems.isEmpty, "\(definition.id) \(nhsNumber): \(problems.prefix(3))")
                checked += 1
            }
        }
        // Every known patient's record was checked, not only empty answers.
        let known = population.patients.filter { $0.isKnown(to: definition.id) }.count
        #expect(known >= 5 && checked >= known, "\(definition.id): \(checked) checked, \(known) known")
    }

    @Test(
        "the schema checks are real: an unknown element, a value outside its type or a missing part is rejected",
        arguments: [
            // (provider, text in the demo patient's answer, its replacement everywhere it occurs)
            (SimulatedProviderID.ambulance, "<Status>finished</Status>", "<Status>done</Status>"),
            (SimulatedProviderID.ambulance, "CallReceived>", "Called>"),
            (SimulatedProviderID.cardiac, "unit=\"%\"", "unit=\"percent\""),
            (SimulatedProviderID.cardiac, "Device>", "Monitor>"),
            (SimulatedProviderID.careHome, "<Outcome>given</Outcome>", "<Outcome>maybe</Outcome>"),
            (SimulatedProviderID.careHome, "<NHSNumber>", "<NHSNumber>X"),
            (SimulatedProviderID.mhTrustDocuments, "<realmCode code=\"GB\"/>", "<realm code=\"GB\"/>"),
            (SimulatedProviderID.mhTrustDocuments, "<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>", ""),
            (SimulatedProviderID.nhs111, "title>", "caption>"),
        ])
    func schemasReject(provider: ProviderID, original: String, broken: String) throws {
        let definition = Shared.definition(provider)
        let schema = try Shared.schema(for: definition)
        let body = try simulator.served(provider, population.demoPatient.nhsNumber)
        let pieces = definition.format == .cda ? try ParsedDocuments(body).documentBytes : [body]
        let text = String(decoding: try #require(pieces.first), as: UTF8.self)
        #expect(text.contains(original))
        #expect(schema.validate(Array(text.utf8)).isEmpty)
        let changed = text.replacingOccurrences(of: original, with: broken)
        #expect(!schema.validate(Array(changed.utf8)).isEmpty, "\(provider): \(broken)")
    }

    @Test("a bespoke record id used twice is refused (ids are unique within an answer)")
    func duplicateIDsRejected() throws {
        let schema = try Shared.ambulanceSchema.get()
        let body = String(decoding: try simulator.served(SimulatedProviderID.ambulance, population.demoPatient.nhsNumber), as: UTF8.self)
        let ids = body.matches(of: /id="(amb-obs-[0-9-]+)"/).map { String($0.output.1) }
        #expect(ids.count >= 2)
        let duplicated = body.replacingOccurrences(of: "id=\"\(ids[1])\"", with: "id=\"\(ids[0])\"")
        #expect(!schema.validate(Array(duplicated.utf8)).isEmpty)
    }
}

extension SimulatedProviderDefinition: CustomTestStringConvertible {
    public var testDescription: String { id.rawValue }
}
