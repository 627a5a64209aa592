import Logging
import ServiceLifecycle

/// On shutdown (SIGTERM), the first thing to happen: `/readyz` turns unready, and after `drainDelay` — time for a
/// load balancer to stop sending new requests — the server is let go to drain what is in flight (each request is
/// bounded by the query deadline) and stop.
///
/// Run it *after* the application in one service group (`ServiceGroup` shuts services down in reverse order):
/// `ServiceGroup(services: [app, ReadinessGate(...)], gracefulShutdownSignals: [.sigterm, .sigint], …)`.
public struct ReadinessGate: Service {
    let readiness: Readiness
    let drainDelay: Duration
    let logger: Logger

    public init(readiness: Readiness, drainDelay: Duration = .seconds(1), logger: Logger) {
        self.readiness = readiness
        self.drainDelay = drainDelay
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        readiness.set(false)
        logger.notice("shutting down: unready, draining in-flight requests", metadata: ["drain_delay": "\(drainDelay)"])
        // A plain sleep: cancellation (a second signal) cuts it short.
        try? await Task.sleep(for: drainDelay)
    }
}
