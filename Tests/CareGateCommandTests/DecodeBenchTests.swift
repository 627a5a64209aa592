import Foundation
import Testing

@testable import caregate

/// `caregate bench decode --feeds`: only the named simulated providers' responses are measured (the dump of
/// what was measured shows which), and a name that is no simulated provider is refused before anything runs.
@Suite struct DecodeBenchTests {
    @Test func measuresOnlyTheFeedsNamed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("decode-bench-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bench = try DecodeBench.parse([
            "--feeds", "nhs111", "--seconds", "0.01", "--formats", "cda",
            "--providers", ServeProcessTests.repository.appendingPathComponent("providers").path,
            "--dump-bodies", folder.path,
        ])
        try await bench.run()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["cda"])
        let measured = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("cda").path)
        #expect(!measured.isEmpty)
        #expect(measured.allSatisfy { $0.hasPrefix("nhs111-") }, "\(measured.filter { !$0.hasPrefix("nhs111-") })")
    }

    @Test func refusesAFeedThatIsNoSimulatedProvider() {
        #expect {
            _ = try DecodeBench.parse(["--feeds", "nhs111,nosuch"])
        } throws: { error in
            DecodeBench.message(for: error).contains("no simulated provider 'nosuch'")
        }
    }
}
