import CareRecords
import Foundation
import ProviderSimulator
import Providers
import Testing
import XMLSupport

/// `caregate providers check` as a provider team uses it: against each simulated provider, and a broken one.
@Suite(.serialized) struct ConformanceCheckTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The schema `providers check` would use for a definition (its own, or the official one for its format).
    static func schema(for definition: ProviderDefinition) throws -> (schema: XMLSchema, name: String) {
        let path =
            definition.schemaFile
            ?? {
                switch definition.format {
                case .fhirR4XML: return repository.appendingPathComponent("schemas/fhir-r4/fhir-single.xsd").path
                case .cda: return repository.appendingPathComponent("schemas/cda-r2-sdtc/infrastructure/cda/CDA_SDTC.xsd").path
                case .mappedXML: return ""
                }
            }()
        return (try XMLSchema(path: path), (path as NSString).lastPathComponent)
    }

    func withSimulator(_ body: (ProviderSimulator, [ProviderDefinition]) async throws -> Void) async throws {
        let simulator = ProviderSimulator(population: LiveGateway.population)
        let endpoints = try await simulator.start()
        do {
            let definitions = try endpoints.map {
                try ProviderDefinition(
                    yaml: $0.providerDefinitionYAML(), file: "\($0.id).yaml", relativeTo: LiveGateway.providersFolder)
            }
            try await body(simulator, definitions)
        } catch {
            try await simulator.shutdown()
            throw error
        }
        try await simulator.shutdown()
    }

    @Test func everySimulatedProviderPasses() async throws {
        let patients = LiveGateway.population.patients.prefix(3).map(\.nhsNumber)
        try await withSimulator { _, definitions in
            #expect(definitions.count == 7)
            for definition in definitions {
                let report = await ConformanceCheck(definition: definition, schema: try Self.schema(for: definition))
                    .run(patients: Array(patients))
                #expect(report.passed, "\(definition.id): \(report.patients.flatMap(\.problems))")
                #expect(report.patients.allSatisfy { $0.httpStatus == 200 && $0.schemaErrors.isEmpty })
                #expect(report.patients[0].entriesByCategory.values.reduce(0, +) > 0, "\(definition.id) returned nothing")
            }
        }
    }

    @Test func aBrokenProviderFailsClearly() async throws {
        let demo = LiveGateway.population.demoPatient.nhsNumber
        try await withSimulator { simulator, definitions in
            let gp = try #require(definitions.first { $0.id == SimulatedProviderID.gp })
            let check = ConformanceCheck(definition: gp, schema: try Self.schema(for: gp), timeout: .milliseconds(500))

            try simulator.setFault(.httpError(status: 503), for: gp.id)
            var report = await check.run(patients: [demo])
            #expect(!report.passed)
            #expect(report.patients[0].problems == ["HTTP 503, expected 200"])

            try simulator.setFault(.truncated, for: gp.id)
            report = await check.run(patients: [demo])
            #expect(!report.passed)
            #expect(report.patients[0].problems.contains { $0.hasPrefix("not decodable: malformed XML at line") })
            #expect(report.patients[0].schemaErrors.isEmpty == false)

            try simulator.setFault(.hang, for: gp.id)
            report = await check.run(patients: [demo])
            #expect(report.patients[0].problems.first?.hasPrefix("no response") == true)
        }
    }

    @Test func aResponseThatBreaksTheSchemaIsReportedWithLineNumbers() async throws {
        let demo = LiveGateway.population.demoPatient.nhsNumber
        try await withSimulator { _, definitions in
            // Check the ambulance's bespoke XML against the care home's schema: valid XML, wrong schema.
            let ambulance = try #require(definitions.first { $0.id == SimulatedProviderID.ambulance })
            let careHome = try #require(definitions.first { $0.id == SimulatedProviderID.careHome })
            let report = await ConformanceCheck(definition: ambulance, schema: try Self.schema(for: careHome))
                .run(patients: [demo])
            #expect(!report.passed)
            let errors = report.patients[0].schemaErrors
            #expect(!errors.isEmpty)
            #expect(errors.allSatisfy { $0.hasPrefix("line ") })
        }
    }
}
