import NIOCore
import NIOPosix
import Synchronization

/// A store call raced against its deadline, for the opt-out registry and the audit trail alike: a driver stuck on a
/// dead socket or a blocked SQLite thread must not hang the request waiting for it.
enum StoreDeadline {
    /// Runs `operation` in a task of its own and returns its result, or `timedOut` once `timeout` has passed,
    /// without waiting for the operation to notice: it is then cancelled and left to finish (or not) on its own.
    /// The deadline is an event-loop timer, cancelled when the operation ends (a sleeping task would be a Dispatch
    /// timer that fires, waking a thread, long after a quick call returned).
    static func race<T: Sendable, E: Error>(
        _ timeout: Duration, timedOut: E, onTimeout: @escaping @Sendable () -> Void = {},
        _ operation: @escaping @Sendable () async -> Result<T, E>
    ) async -> Result<T, E> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
            let race = DeadlineRace(continuation)
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(timeout)) {
                if race.finish(.failure(timedOut)) {
                    onTimeout()
                    race.cancelWork()
                }
            }
            race.setWork(
                Task {
                    let outcome = await operation()
                    timer.cancel()
                    race.finish(outcome)
                })
        }
    }
}

/// Resumes a continuation exactly once, from whichever of the work and its deadline finishes first.
final class DeadlineRace<T: Sendable, E: Error>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<T, E>, Never>?
        var work: Task<Void, Never>?
        var cancelWork = false
    }
    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<Result<T, E>, Never>) {
        state = Mutex(State(continuation: continuation))
    }

    /// False when the continuation had already been resumed.
    @discardableResult
    func finish(_ result: Result<T, E>) -> Bool {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: result)
        return continuation != nil
    }

    func setWork(_ task: Task<Void, Never>) {
        let cancel = state.withLock { state in
            state.work = task
            return state.cancelWork
        }
        if cancel { task.cancel() }
    }

    func cancelWork() {
        let work = state.withLock { state in
            state.cancelWork = true
            return state.work
        }
        work?.cancel()
    }
}
