import CareRecords
import Foundation
import ProviderFormats
import Testing

/// The CDA documents copied into `Fixtures/cda` (see `Fixtures/cda/README.md`).
enum CDAFixtures {
    static let provider: ProviderID = "trust-cda"

    static var directory: URL {
        get throws {
            let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            return fixtures.appending(path: "cda", directoryHint: .isDirectory)
        }
    }

    /// Every document's file name, sorted (one sample keeps an upper-case `.XML`).
    static func fileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false))
            .filter { $0.lowercased().hasSuffix(".xml") }
            .sorted()
    }

    static func bytes(_ fileName: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: directory.appending(path: fileName)))
    }

    static func decode(_ fileName: String) throws -> DecodedRecord {
        try CDADecoder().decode(bytes(fileName), from: provider)
    }

    static func decode(xml: String) throws -> DecodedRecord {
        try CDADecoder().decode(Array(xml.utf8), from: provider)
    }

    /// The error decoding `xml` throws; fails the test when it decodes.
    static func error(decoding xml: String) throws -> DecodeError {
        do {
            let record = try CDADecoder().decode(Array(xml.utf8), from: provider)
            Issue.record("expected a DecodeError, decoded \(record.entries.count) entries")
            throw CancellationError()
        } catch let error as DecodeError {
            return error
        }
    }
}

extension DecodedRecord {
    func entries(_ category: EntryCategory) -> [CareEntry] {
        entries.filter { $0.category == category }
    }

    /// The one entry of this category whose code is `code`.
    func entry(_ category: EntryCategory, code: String) throws -> CareEntry {
        let matches = entries.filter { $0.category == category && $0.code?.code == code }
        try #require(matches.count == 1, "\(matches.count) \(category.rawValue) entries with code \(code)")
        return matches[0]
    }
}
