import NIOCore
import NIOPosix
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
    let race = AuditDeadlineRace<T>()
    let outcome = await withCheckedContinuation { (waiter: CheckedContinuation<Result<T, AuditStoreError>, Never>) in
        race.start(waiter)
        let work = Task {
            let result: Result<T, AuditStoreError>
            do throws(AuditStoreError) { result = .success(try await operation()) } catch { result = .failure(error) }
            race.finish(result)
        }
        // An event-loop timer, cancelled when the work ends (a sleeping task would fire long after it returned).
        let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(timeout)) {
            race.finish(.failure(.deadlineExceeded("no answer within \(timeout) while \(what)")))
            work.cancel()
        }
        race.onFinish { timer.cancel() }
    }
    return try outcome.get()
}

private final class AuditDeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Result<T, AuditStoreError>, Never>?
        var finished = false
        var onFinish: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func start(_ waiter: CheckedContinuation<Result<T, AuditStoreError>, Never>) {
        state.withLock { $0.waiter = waiter }
    }

    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.finished { return true }
            state.onFinish = action
            return false
        }
        if runNow { action() }
    }

    func finish(_ result: Result<T, AuditStoreError>) {
        let (waiter, action) = state.withLock { state -> (CheckedContinuation<Result<T, AuditStoreError>, Never>?, (@Sendable () -> Void)?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            defer { state.waiter = nil; state.onFinish = nil }
            return (state.waiter, state.onFinish)
        }
        waiter?.resume(returning: result)
        action?()
    }
}
