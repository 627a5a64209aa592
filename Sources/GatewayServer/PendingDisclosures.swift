import Synchronization

/// The disclosure records still being written after their answers went (`audit_disclosure: after-answer`), so
/// that shutdown closes the audit trail only once every one of them is written.
///
/// A write is counted from before its answer leaves, so when the server has drained its requests, every write
/// they started is counted here; `drained()` then waits for the last. Each write is bounded by the audit
/// trail's own deadline, so the wait is too.
public final class PendingDisclosures: Sendable {
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// How many writes are running.
    public var count: Int { state.withLock { $0.running } }

    /// Counts `write` now and runs it in a task of its own.
    func start(_ write: @escaping @Sendable () async -> Void) {
        state.withLock { $0.running += 1 }
        Task {
            await write()
            finished()
        }
    }

    private func finished() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.running -= 1
            guard state.running == 0 else { return [] }
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once no write is running.
    public func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                guard state.running > 0 else { return true }
                state.waiting.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }
}
