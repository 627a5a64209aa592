import CareRecords
import CoreMetrics
import Synchronization

/// What the fan-out reports per provider, through swift-metrics. Labels are the provider id (a closed set, from
/// the registry) and the outcome — never anything about the patient.
///
/// - `caregate_provider_request_duration_seconds{provider}`: from the start of the fan-out to the provider's
///   outcome, for providers actually called
/// - `caregate_provider_outcomes_total{provider,outcome}`: `ok`, `timeout`, `error`, `circuit-open`, `skipped`
/// - `caregate_provider_in_flight{provider}`: requests out now (a provider that ignores cancellation stays
///   counted until its call really ends)
/// - `caregate_provider_entries_total{provider}`: entries received
/// - `caregate_provider_circuit_state{provider}`: 0 closed, 1 half-open, 2 open
/// - `caregate_provider_hedges_total{provider}`: second requests sent because the first was slower than p95
public struct FanOutMetrics: Sendable {
    public let factory: any MetricsFactory
    /// Each provider's metric objects, made once: making one asks the factory's registry (a lock, a lookup by
    /// label and dimensions, a description), and every provider of every query reports three or four.
    private let handles: HandleCache

    public init(factory: any MetricsFactory) {
        self.factory = factory
        handles = HandleCache(factory: factory)
    }

    public static let requestDuration = "caregate_provider_request_duration_seconds"
    public static let outcomes = "caregate_provider_outcomes_total"
    public static let inFlight = "caregate_provider_in_flight"
    public static let entries = "caregate_provider_entries_total"
    public static let circuitState = "caregate_provider_circuit_state"
    public static let hedges = "caregate_provider_hedges_total"

    func recordHedge(_ provider: ProviderID) {
        handles[provider].hedges.increment()
    }

    func inFlight(_ provider: ProviderID) -> Meter {
        handles[provider].inFlight
    }

    func record(_ outcome: ProviderOutcome) {
        let handles = handles[outcome.provider]
        handles.outcomes[outcome.status]?.increment()
        guard outcome.status != .skipped, outcome.status != .circuitOpen else { return }
        handles.duration.recordMilliseconds(outcome.latencyMilliseconds)
        if !outcome.entries.isEmpty { handles.entries.increment(by: outcome.entries.count) }
    }

    func record(_ provider: ProviderID, state: CircuitBreaker.State) {
        let value: Int
        switch state {
        case .closed: value = 0
        case .halfOpen: value = 1
        case .open: value = 2
        }
        handles[provider].circuitState.record(value)
    }

    /// One provider's metric objects (each is safe to use from any thread).
    struct ProviderHandles: Sendable {
        let outcomes: [ProviderStatus: Counter]
        let duration: Timer
        let entries: Counter
        let inFlight: Meter
        let circuitState: Gauge
        let hedges: Counter

        init(_ provider: ProviderID, factory: any MetricsFactory) {
            let dimension = ("provider", provider.rawValue)
            var outcomes: [ProviderStatus: Counter] = [:]
            for status in ProviderStatus.allCases {
                outcomes[status] = Counter(
                    label: FanOutMetrics.outcomes, dimensions: [dimension, ("outcome", status.rawValue)],
                    factory: factory)
            }
            self.outcomes = outcomes
            duration = Timer(label: FanOutMetrics.requestDuration, dimensions: [dimension], factory: factory)
            entries = Counter(label: FanOutMetrics.entries, dimensions: [dimension], factory: factory)
            inFlight = Meter(label: FanOutMetrics.inFlight, dimensions: [dimension], factory: factory)
            circuitState = Gauge(label: FanOutMetrics.circuitState, dimensions: [dimension], factory: factory)
            hedges = Counter(label: FanOutMetrics.hedges, dimensions: [dimension], factory: factory)
        }
    }

    /// Handles by provider, made on first use (providers can be registered while the gateway runs).
    final class HandleCache: Sendable {
        private let factory: any MetricsFactory
        private let handles = Mutex<[ProviderID: ProviderHandles]>([:])

        init(factory: any MetricsFactory) {
            self.factory = factory
        }

        subscript(provider: ProviderID) -> ProviderHandles {
            handles.withLock { handles in
                if let known = handles[provider] { return known }
                let made = ProviderHandles(provider, factory: factory)
                handles[provider] = made
                return made
            }
        }
    }
}
