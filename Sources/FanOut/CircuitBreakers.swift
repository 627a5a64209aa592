import CareRecords
import Synchronization

/// Every provider's circuit breaker, kept across queries (a `FanOut` lives for one query).
public final class CircuitBreakers: Sendable {
    private let breakers = Mutex<[ProviderID: CircuitBreaker]>([:])

    public init() {}

    /// Whether a call to the provider may go out now; creates its breaker with `configuration` on first use, and
    /// replaces it when the provider's configuration changed (a re-registered provider starts closed).
    public func permit(_ provider: ProviderID, configuration: CircuitBreaker.Configuration, at now: ContinuousClock.Instant)
        -> Bool
    {
        breakers.withLock { breakers in
            if breakers[provider]?.configuration != configuration {
                breakers[provider] = CircuitBreaker(configuration: configuration)
            }
            return breakers[provider]!.permit(at: now)
        }
    }

    public func record(_ provider: ProviderID, status: ProviderStatus, at now: ContinuousClock.Instant) {
        breakers.withLock { breakers in
            switch status {
            case .ok: breakers[provider]?.recordSuccess(at: now)
            case .error, .timeout: breakers[provider]?.recordFailure(at: now)
            case .circuitOpen, .skipped: breakers[provider]?.recordAbandoned()
            }
        }
    }

    /// Each provider's breaker state, for metrics and the status page.
    public var states: [ProviderID: CircuitBreaker.State] {
        breakers.withLock { $0.mapValues(\.state) }
    }
}
