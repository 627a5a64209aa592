import CareRecords
import CoreMetrics

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

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    public static let requestDuration = "caregate_provider_request_duration_seconds"
    public static let outcomes = "caregate_provider_outcomes_total"
    public static let inFlight = "caregate_provider_in_flight"
    public static let entries = "caregate_provider_entries_total"
    public static let circuitState = "caregate_provider_circuit_state"
    public static let hedges = "caregate_provider_hedges_total"

    func recordHedge(_ provider: ProviderID) {
        Counter(label: Self.hedges, dimensions: [("provider", provider.rawValue)], factory: factory).increment()
    }

    func inFlight(_ provider: ProviderID) -> Meter {
        Meter(label: Self.inFlight, dimensions: [("provider", provider.rawValue)], factory: factory)
    }

    func record(_ outcome: ProviderOutcome) {
        let provider = ("provider", outcome.provider.rawValue)
        Counter(label: Self.outcomes, dimensions: [provider, ("outcome", outcome.status.rawValue)], factory: factory)
            .increment()
        guard outcome.status != .skipped, outcome.status != .circuitOpen else { return }
        Timer(label: Self.requestDuration, dimensions: [provider], factory: factory)
            .recordMilliseconds(outcome.latencyMilliseconds)
        if !outcome.entries.isEmpty {
            Counter(label: Self.entries, dimensions: [provider], factory: factory).increment(by: outcome.entries.count)
        }
    }

    func record(_ provider: ProviderID, state: CircuitBreaker.State) {
        let value: Int
        switch state {
        case .closed: value = 0
        case .halfOpen: value = 1
        case .open: value = 2
        }
        Gauge(label: Self.circuitState, dimensions: [("provider", provider.rawValue)], factory: factory).record(value)
    }
}
