import CareRecords
import Foundation
import ProviderFormats
import Testing

/// The UK Core FHIR R4 XML examples copied into `Fixtures/uk-core-fhir-r4-xml` (see `Fixtures/README.md`).
enum UKCoreExamples {
    static let provider: ProviderID = "gp-example"

    static var directory: URL {
        get throws {
            let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            return fixtures.appending(path: "uk-core-fhir-r4-xml", directoryHint: .isDirectory)
        }
    }

    /// Every example's file name, sorted.
    static func fileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false))
            .filter { $0.hasSuffix(".xml") }
            .sorted()
    }

    static func bytes(_ fileName: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: directory.appending(path: fileName)))
    }

    static func decode(_ fileName: String) throws -> DecodedRecord {
        try FHIRR4XMLDecoder().decode(bytes(fileName), from: provider)
    }

    /// The single entry an example holding one resource decodes to.
    static func onlyEntry(_ fileName: String) throws -> CareEntry {
        let entries = try decode(fileName).entries
        try #require(entries.count == 1, "\(fileName) gave \(entries.count) entries")
        return entries[0]
    }
}
