import CareGateTesting
import Logging
import Synchronization
import Testing

@testable import Policy

/// Slow audit commits reach the operators' log, at most once per interval and without a record's content.
@Suite("Slow audit commits")
struct SlowAuditCommitTests {
    /// Runs a group commit whose commits take `delays` in turn, one record each, waiting for each commit before
    /// the next append; returns the warnings logged.
    private func warnings(
        for delays: [Duration], threshold: Duration, interval: Duration, pauseBefore pause: (Int) -> Duration = { _ in .zero }
    ) async throws -> [CapturedLog.Entry] {
        let log = CapturedLog()
        let warning = SlowCommitWarning(
            threshold: threshold, interval: interval, logger: Logger(label: "test", factory: { _ in log }))
        let queue = AuditGroupCommit()
        let calls = Counter()
        let writer = Task {
            await queue.runWriter(slowCommits: warning) { (batch: [AuditRecord]) async throws(AuditStoreError) in
                let call = calls.next()
                try? await Task.sleep(for: delays[min(call, delays.count - 1)])
                return batch.enumerated().map { offset, record in
                    StoredAuditRecord(sequence: Int64(call + offset + 1), record: record, previousHash: "", hash: "")
                }
            }
        }
        for index in delays.indices {
            try await Task.sleep(for: pause(index))
            _ = try await queue.append(AuditSyntheticPatients.record(requestID: "req-\(index)"))
        }
        queue.close()
        await writer.value
        return log.entries.filter { $0.level == .warning }
    }

    @Test("commits under the threshold say nothing")
    func fastCommitsAreQuiet() async throws {
        let logged = try await warnings(for: [.zero, .zero, .zero], threshold: .milliseconds(200), interval: .seconds(60))
        #expect(logged.isEmpty)
    }

    @Test("a burst of slow commits gives one warning, counting them, and nothing about the records")
    func oneWarningPerInterval() async throws {
        let slow = Duration.milliseconds(120)
        let logged = try await warnings(for: [slow, slow, slow], threshold: .milliseconds(60), interval: .seconds(60))
        try #require(logged.count == 1)
        #expect(logged[0].message.contains("audit commits are slow"))
        #expect(logged[0].message.contains(#""slow_commits": 1"#))
        #expect(!logged[0].message.contains("req-"))
        #expect(!logged[0].message.contains(AuditSyntheticPatients.number(1).digits))
    }

    @Test("after the interval, the next slow commit warns again with the count since the last warning")
    func warnsAgainAfterTheInterval() async throws {
        let slow = Duration.milliseconds(120)
        // Three slow commits: the first warns; the second is inside the interval; the third comes after it.
        let logged = try await warnings(
            for: [slow, slow, slow], threshold: .milliseconds(60), interval: .seconds(1),
            pauseBefore: { $0 == 2 ? .milliseconds(1_200) : .zero })
        try #require(logged.count == 2)
        #expect(logged[1].message.contains(#""slow_commits": 2"#))
    }
}

/// Counts calls from the writer's task.
private final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
