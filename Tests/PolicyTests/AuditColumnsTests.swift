import Foundation
import Testing

@testable import Policy

/// The audit's JSON columns are written directly; they must read back as `JSONEncoder` would have written them,
/// byte for byte, so that old and new rows look alike to anyone reading the table.
@Suite struct AuditColumnsTests {
    static let providers: [[ProviderOutcomeSummary]] = [
        [],
        [ProviderOutcomeSummary(provider: "gp", status: "ok")],
        [
            ProviderOutcomeSummary(provider: "mh-trust", status: "timeout"),
            ProviderOutcomeSummary(provider: "care/home \"north\"", status: "error: bad\\path\n\t\u{1}\u{1F} é ✓"),
        ],
    ]

    static let counts: [[String: Int]] = [
        [:], ["medication": 3], ["test-result": 12, "allergy": 0, "document": 7, "Zeta": 1, "ärger": 2, "a\"b": -4],
    ]

    static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test(arguments: providers)
    func providersAsJSONEncoderWritesThem(_ providers: [ProviderOutcomeSummary]) throws {
        let json = AuditColumns.json(providers)
        #expect(json == (try Self.encoded(providers)))
        #expect(try JSONDecoder().decode([ProviderOutcomeSummary].self, from: Data(json.utf8)) == providers)
    }

    @Test(arguments: counts)
    func countsAsJSONEncoderWritesThem(_ counts: [String: Int]) throws {
        let json = AuditColumns.json(counts)
        #expect(json == (try Self.encoded(counts)))
        #expect(try JSONDecoder().decode([String: Int].self, from: Data(json.utf8)) == counts)
    }
}
