import Synchronization

/// Whether the gateway should receive traffic (`/readyz`). Turned off first when shutting down, so a load
/// balancer stops sending requests before the server stops accepting them.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    public func set(_ value: Bool) { ready.store(value, ordering: .releasing) }
}
