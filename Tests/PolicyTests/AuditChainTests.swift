import Foundation
import Policy
import Testing

/// The chain's hash is a stored format: a record written today must verify after any upgrade.
@Suite("Audit chain format")
struct AuditChainTests {
    @Test func theFirstRecordsHashIsPinned() async throws {
        try await AuditTestEnvironment.withStore(.sqlite) { store in
            let trail = try await store.openTrail()
            let stored = try await trail.append(AuditSyntheticPatients.record())
            await trail.shutdown()
            #expect(stored.previousHash == String(repeating: "0", count: 64))
            #expect(stored.hash == "409700b904c781b41f0e6c961e4be88c16db84650cf8b3a9aa99e82c49bcfc9d")
        }
    }

    @Test func timeIsKeptToTheMillisecond() async throws {
        try await AuditTestEnvironment.withStore(.sqlite) { store in
            let trail = try await store.openTrail()
            let stored = try await trail.append(AuditSyntheticPatients.record(time: Date(timeIntervalSince1970: 1_795_000_000.123_456)))
            #expect(stored.record.time == Date(timeIntervalSince1970: 1_795_000_000.123))
            #expect(try await trail.records(patient: AuditSyntheticPatients.number(1)) == [stored])
            await trail.shutdown()
        }
    }
}
