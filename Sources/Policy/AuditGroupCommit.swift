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
    /// records in the order given, or throws to fail the whole batch.
    func runWriter(commit: ([AuditRecord]) async throws(AuditStoreError) -> [StoredAuditRecord]) async {
        while let batch = await nextBatch() {
            do {
                let stored = try await commit(batch.map(\.record))
                for (pending, record) in zip(batch, stored) { pending.caller.resume(returning: .success(record)) }
            } catch {
                for pending in batch { pending.caller.resume(returning: .failure(error)) }
            }
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
