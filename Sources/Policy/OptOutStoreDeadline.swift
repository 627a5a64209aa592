import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Bounds every opt-out store call, so a store that hangs makes the gateway refuse (503) rather than wait.
public enum OptOutStoreDeadline {
    /// Long enough for a healthy store under load, short enough that callers are not left hanging.
    public static let `default`: Duration = .seconds(2)

    /// Runs `body`, returning its value, or throws `OptOutStoreError.timedOut` once `timeout` has passed.
    ///
    /// Returns on time even when `body` ignores cancellation (a blocked SQLite call): it is cancelled and left
    /// to finish on its own. Any error from `body` becomes `failure`; the original is logged at debug only.
    static func run<T: Sendable>(
        _ timeout: Duration,
        failure: OptOutStoreError = .unavailable,
        logger: Logger,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws(OptOutStoreError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, OptOutStoreError>, Never>) in
            let race = Race(continuation)
            // An event-loop timer, cancelled when the work ends: a sleeping task would be a Dispatch timer that
            // fires, waking a thread, long after a quick call returned.
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(timeout)) {
                if race.finish(.failure(.timedOut)) {
                    logger.debug("opt-out store call timed out", metadata: ["timeout": "\(timeout)"])
                    race.cancelWork()
                }
            }
            race.setWork(Task {
                let outcome: Result<T, OptOutStoreError>
                do {
                    outcome = .success(try await body())
                } catch let error as OptOutStoreError {
                    outcome = .failure(error)
                } catch {
                    // Store errors may quote the failing statement; debug level keeps them out of normal logs.
                    logger.debug("opt-out store call failed", metadata: ["error": "\(String(reflecting: error))"])
                    outcome = .failure(failure)
                }
                timer.cancel()
                race.finish(outcome)
            })
        }
        return try result.get()
    }

    /// As `run`, for a call that is already under way as an `EventLoopFuture` (SQLite's, on its thread pool): the
    /// deadline is a task scheduled on the future's event loop, and no Swift task is needed to leave a stuck call
    /// behind (the general form runs the call in one). The opt-out check runs before every query; before this it
    /// cost two Swift tasks and a Dispatch timer that fired two seconds later, each a thread to wake.
    static func run<T: Sendable>(
        _ timeout: Duration,
        failure: OptOutStoreError = .unavailable,
        logger: Logger,
        future call: () -> EventLoopFuture<T>
    ) async throws(OptOutStoreError) -> T {
        let future = call()
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, OptOutStoreError>, Never>) in
            let race = Race(continuation)
            let timer = future.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                if race.finish(.failure(.timedOut)) {
                    logger.debug("opt-out store call timed out", metadata: ["timeout": "\(timeout)"])
                }
            }
            future.whenComplete { outcome in
                timer.cancel()
                switch outcome {
                case .success(let value): race.finish(.success(value))
                case .failure(let error as OptOutStoreError): race.finish(.failure(error))
                case .failure(let error):
                    logger.debug("opt-out store call failed", metadata: ["error": "\(String(reflecting: error))"])
                    race.finish(.failure(failure))
                }
            }
        }
        return try result.get()
    }

    /// Resumes the continuation exactly once, from whichever of work and timer finishes first.
    private final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Result<T, OptOutStoreError>, Never>?
            var work: Task<Void, Never>?
            var cancelWork = false
        }
        private let state: Mutex<State>

        init(_ continuation: CheckedContinuation<Result<T, OptOutStoreError>, Never>) {
            state = Mutex(State(continuation: continuation))
        }

        @discardableResult
        func finish(_ result: Result<T, OptOutStoreError>) -> Bool {
            let continuation = state.withLock { state in
                let continuation = state.continuation
                state.continuation = nil
                return continuation
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
}
