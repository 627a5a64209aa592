import Logging
import NIOCore

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
        try await StoreDeadline.race(
            timeout, timedOut: OptOutStoreError.timedOut,
            onTimeout: { logger.debug("opt-out store call timed out", metadata: ["timeout": "\(timeout)"]) }
        ) { () async -> Result<T, OptOutStoreError> in
            do {
                return .success(try await body())
            } catch {
                return .failure(storeError(error, failure: failure, logger: logger))
            }
        }.get()
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
            let race = DeadlineRace(continuation)
            let timer = future.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                if race.finish(.failure(.timedOut)) {
                    logger.debug("opt-out store call timed out", metadata: ["timeout": "\(timeout)"])
                }
            }
            future.whenComplete { outcome in
                timer.cancel()
                race.finish(outcome.mapError { storeError($0, failure: failure, logger: logger) })
            }
        }
        return try result.get()
    }

    /// The error a caller sees: the store's own, or `failure` for anything else. Store errors may quote the failing
    /// statement, so the original is logged at debug level only.
    private static func storeError(_ error: any Error, failure: OptOutStoreError, logger: Logger) -> OptOutStoreError {
        if let error = error as? OptOutStoreError { return error }
        logger.debug("opt-out store call failed", metadata: ["error": "\(String(reflecting: error))"])
        return failure
    }
}
