import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// What every test shares, built once per test process: the default population and each schema (the R4 one takes
/// about 0.1 s to load), loaded once.
enum Shared {
    static let population = SyntheticPopulation.generate()

    /// The package's root folder (which holds `schemas/` and `providers/`), found from this file's place in it.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func schema(_ path: String) -> Result<XMLSchema, XMLSchemaError> {
        Result { () throws(XMLSchemaError) -> XMLSchema in try XMLSchema(path: path) }
    }

    static let fhirSchema = schema(packageRoot.appendingPathComponent("schemas/fhir-r4/fhir-single.xsd").path)
    static let cdaSchema = schema(
        packageRoot.appendingPathComponent("schemas/cda-r2-sdtc/infrastructure/cda/CDA_SDTC.xsd").path)
    static let ambulanceSchema = schema(packageRoot.appendingPathComponent("schemas/ambulance-epcr.xsd").path)
    static let cardiacSchema = schema(packageRoot.appendingPathComponent("schemas/cardiac-monitoring.xsd").path)
    static let careHomeSchema = schema(packageRoot.appendingPathComponent("schemas/care-home.xsd").path)

    /// The schema a provider's answers must validate against (for CDA, each ClinicalDocument in the answer).
    static func schema(for definition: SimulatedProviderDefinition) throws -> XMLSchema {
        switch (definition.format, definition.kind) {
        case (.fhirR4XML, _): try fhirSchema.get()
        case (.cda, _): try cdaSchema.get()
        case (.mappedXML, .ambulance): try ambulanceSchema.get()
        case (.mappedXML, .cardiacMonitoring): try cardiacSchema.get()
        case (.mappedXML, _): try careHomeSchema.get()
        }
    }

    /// A valid NHS number (the NHS's own documentation example) that no synthetic patient has.
    static let strangerNHSNumber = try! NHSNumber("9434765919")

    static let definitions = [SimulatedProviderDefinition].standardSix

    static func definition(_ id: ProviderID) -> SimulatedProviderDefinition {
        definitions.first { $0.id == id }!
    }
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

/// A CDA provider's answer: the wrapper and its documents, parsed, and each document's own bytes as cut from the
/// answer (each declares its namespaces, so the cut bytes are a document of their own).
struct ParsedDocuments {
    let root: XMLElement
    let documents: [XMLElement]
    let documentBytes: [[UInt8]]

    init(_ bytes: [UInt8]) throws {
        root = try SafeXMLParser.parse(bytes)
        documents = root.children("ClinicalDocument")
        let open = Array("<ClinicalDocument ".utf8)
        let close = Array("</ClinicalDocument>".utf8)
        var pieces: [[UInt8]] = []
        var rest = bytes[...]
        while let start = rest.firstRange(of: open), let end = rest[start.lowerBound...].firstRange(of: close) {
            pieces.append(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".utf8) + rest[start.lowerBound..<end.upperBound])
            rest = rest[end.upperBound...]
        }
        documentBytes = pieces
    }
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

    /// The element at a path of child names.
    func at(_ path: String...) -> XMLElement? {
        var current = self
        for name in path {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current
    }

    /// Every descendant (not the element itself), depth first.
    var descendants: [XMLElement] {
        children.flatMap { [$0] + $0.descendants }
    }
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

extension ProviderSimulator {
    /// The body a provider serves, for tests that know the provider exists.
    func served(_ provider: ProviderID, _ patient: NHSNumber) throws -> [UInt8] {
        try #require(body(for: provider, patient: patient), "\(provider) serves no body")
    }
}
