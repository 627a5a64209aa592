import Logging
import Synchronization

/// Group commit: appends from many requests are queued, and one writer commits whatever is waiting as one
/// transaction (one fsync) and then resumes every caller in it. Under load a batch grows to the number of
/// requests that arrived during the previous commit, so throughput follows batch size, not fsync latency.
final class AuditGroupCommit: Sendable {
    typealias Outcome = Result<StoredAuditRecord, AuditStoreError>

    struct Pending: Sendable {
        var record: AuditRecord
        var caller: CheckedContinuation<Outcome, Never>
    }

    private struct State {
        var pending: [Pending] = []
        var idleWriter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int

    init(maximumBatch: Int = 512) {
        self.maximumBatch = maximumBatch
    }

    /// Queues `record` and returns once the batch holding it has committed (or failed).
    func append(_ record: AuditRecord) async throws(AuditStoreError) -> StoredAuditRecord {
        let outcome = await withCheckedContinuation { (caller: CheckedContinuation<Outcome, Never>) in
            let (accepted, writer) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !state.closed else { return (false, nil) }
                state.pending.append(Pending(record: record, caller: caller))
                defer { state.idleWriter = nil }
                return (true, state.idleWriter)
            }
            if !accepted { caller.resume(returning: .failure(.closed)) }
            writer?.resume()
        }
        return try outcome.get()
    }

    /// The writer's loop: commits batches until `close()` and the queue is empty. `commit` returns the stored
    /// records in the order given, or throws to fail the whole batch. Commits slower than `slowCommits`' threshold
    /// are reported to operators (see `SlowCommitWarning`).
    func runWriter(
        slowCommits: SlowCommitWarning? = nil,
        commit: ([AuditRecord]) async throws(AuditStoreError) -> [StoredAuditRecord]
    ) async {
        var slow = SlowCommitWarning.Tally()
        while let batch = await nextBatch() {
            let started = ContinuousClock.now
            do {
                let stored = try await commit(batch.map(\.record))
                for (pending, record) in zip(batch, stored) { pending.caller.resume(returning: .success(record)) }
            } catch {
                for pending in batch { pending.caller.resume(returning: .failure(error)) }
            }
            let finished = ContinuousClock.now
            slowCommits?.note(started.duration(to: finished), records: batch.count, at: finished, in: &slow)
        }
    }

    /// New appends fail with `.closed`; those already queued are still committed.
    func close() {
        let writer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.idleWriter = nil }
            return state.idleWriter
        }
        writer?.resume()
    }

    private func nextBatch() async -> [Pending]? {
        while true {
            await withCheckedContinuation { (writer: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.pending.isEmpty || state.closed { return true }
                    state.idleWriter = writer
                    return false
                }
                if ready { writer.resume() }
            }
            let batch = state.withLock { state -> [Pending]? in
                if state.pending.isEmpty { return state.closed ? nil : [] }
                let count = min(maximumBatch, state.pending.count)
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            if let batch, batch.isEmpty { continue }
            return batch
        }
    }
}

/// A warning to operators when audit commits are slow: an answer with `audit_disclosure: with-answer` waits for
/// its commit, so a store whose disk or database stalls for tens of milliseconds is what its clients see at p99
/// (`caregate_audit_write_duration_seconds` has the distribution; this puts the event in the log).
///
/// At most one warning per `interval`, naming how many commits were slow since the last one and the slowest:
/// a stalling disk would otherwise log on every commit. Durations and counts only, never a record's content.
struct SlowCommitWarning: Sendable {
    var threshold: Duration = .milliseconds(100)
    var interval: Duration = .seconds(60)
    var logger: Logger

    /// The slow commits since the last warning (kept by the writer's loop).
    struct Tally {
        var count = 0
        var slowest = Duration.zero
        var lastWarning: ContinuousClock.Instant?
    }

    func note(_ elapsed: Duration, records: Int, at now: ContinuousClock.Instant, in tally: inout Tally) {
        guard elapsed >= threshold else { return }
        tally.count += 1
        tally.slowest = max(tally.slowest, elapsed)
        if let last = tally.lastWarning, last.duration(to: now) < interval { return }
        logger.warning(
            "audit commits are slow: answers that wait for their audit record wait for this; check the audit store's disk or database",
            metadata: [
                "slow_commits": "\(tally.count)", "slowest_ms": "\(Self.milliseconds(tally.slowest))",
                "threshold_ms": "\(Self.milliseconds(threshold))", "records_in_last": "\(records)",
            ])
        tally = Tally(lastWarning: now)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// Runs `operation` but gives up after `timeout` with `.deadlineExceeded`, without waiting for it to notice:
/// a driver stuck on a dead socket must not hang the request that is waiting for the audit write.
/// The abandoned operation is cancelled and finishes (or not) on its own.
func withAuditDeadline<T: Sendable>(
    _ timeout: Duration, _ what: String,
    _ operation: @escaping @Sendable () async throws(AuditStoreError) -> T
) async throws(AuditStoreError) -> T {
    try await StoreDeadline.race(timeout, timedOut: AuditStoreError.deadlineExceeded("no answer within \(timeout) while \(what)")) {
        do throws(AuditStoreError) { return .success(try await operation()) } catch { return .failure(error) }
    }.get()
}
