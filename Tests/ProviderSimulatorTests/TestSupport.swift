import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// What every test shares, built once per test process: the default population and the R4 schema (which takes
/// about 0.1 s to load).
enum Shared {
    static let population = SyntheticPopulation.generate()

    static let fhirSchema: Result<XMLSchema, XMLSchemaError> = Result {
        () throws(XMLSchemaError) -> XMLSchema in
        let path = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/fhir-r4-xsd/fhir-single.xsd").path
        return try XMLSchema(path: path)
    }

    /// A valid NHS number (the NHS's own documentation example) that no synthetic patient has.
    static let strangerNHSNumber = try! NHSNumber("9434765919")
}

/// A parsed bundle's entries, for assertions about what a provider sent.
struct ParsedBundle {
    let root: XMLElement

    init(_ bytes: [UInt8]) throws {
        root = try SafeXMLParser.parse(bytes)
    }

    var total: Int? { root.child("total")?.attribute("value").flatMap(Int.init) }

    /// Every entry's resource element.
    var resources: [XMLElement] {
        root.children("entry").compactMap { $0.child("resource")?.children.first }
    }

    func resources(_ type: String) -> [XMLElement] { resources.filter { $0.name == type } }

    var resourceTypes: Set<String> { Set(resources.map(\.name)) }
}

extension XMLElement {
    /// The `value` attribute of the element at `path`.
    func value(_ path: String...) -> String? {
        var current = self
        for name in path {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current.attribute("value")
    }

    /// The first coding's code of a CodeableConcept child.
    func code(_ name: String) -> String? { child(name)?.child("coding")?.value("code") }
}

/// Runs `body` against a started simulator and always shuts it down, so a failing test cannot leak sockets or threads.
func withSimulator<T: Sendable>(
    population: SyntheticPopulation = Shared.population,
    _ body: (ProviderSimulator, [SimulatedEndpoint]) async throws -> T
) async throws -> T {
    let simulator = ProviderSimulator(population: population)
    let endpoints = try await simulator.start()
    do {
        let result = try await body(simulator, endpoints)
        try await simulator.shutdown()
        return result
    } catch {
        try? await simulator.shutdown()
        throw error
    }
}

extension [SimulatedEndpoint] {
    subscript(id id: ProviderID) -> SimulatedEndpoint {
        first { $0.id == id }!
    }
}
