import Providers

/// A provider's circuit breaker, as a value-type state machine with no clock or I/O of its own: callers pass
/// the time in, so every transition is tested without sockets or sleeps.
///
/// - closed: calls go through. It opens after `failureThreshold` consecutive failures, or when at least
///   `minimumCalls` of the last `window` calls were made and `errorRate` or more of them failed.
/// - open: calls are refused (the provider is reported `circuit-open` at once, not called) until `coolDown` ends.
/// - half-open: one probe call goes through; its success closes the breaker, its failure opens it again.
public struct CircuitBreaker: Sendable, Equatable {
    /// Set per provider in its file (`circuit_breaker:`); see `CircuitBreakerSettings`.
    public typealias Configuration = CircuitBreakerSettings

    public enum State: Sendable, Equatable {
        case closed
        case open(until: ContinuousClock.Instant)
        case halfOpen(probeInFlight: Bool)

        /// The metric/wire spelling.
        public var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half-open"
            }
        }
    }

    public let configuration: Configuration
    public private(set) var state: State = .closed
    private var consecutiveFailures = 0
    /// The last `window` outcomes, true for a failure, as a ring.
    private var outcomes: [Bool] = []
    private var next = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Whether a call may go out now. In half-open, only the first caller gets through (the probe).
    public mutating func permit(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let until):
            guard now >= until else { return false }
            state = .halfOpen(probeInFlight: true)
            return true
        case .halfOpen(let probeInFlight):
            guard !probeInFlight else { return false }
            state = .halfOpen(probeInFlight: true)
            return true
        }
    }

    public mutating func recordSuccess(at now: ContinuousClock.Instant) {
        consecutiveFailures = 0
        remember(failure: false)
        if case .halfOpen = state { reset() }
    }

    public mutating func recordFailure(at now: ContinuousClock.Instant) {
        consecutiveFailures += 1
        remember(failure: true)
        switch state {
        case .halfOpen:
            trip(at: now)
        case .closed:
            let failures = outcomes.lazy.filter { $0 }.count
            let rateExceeded =
                outcomes.count >= configuration.minimumCalls
                && Double(failures) / Double(outcomes.count) >= configuration.errorRate
            if consecutiveFailures >= configuration.failureThreshold || rateExceeded { trip(at: now) }
        case .open:
            break
        }
    }

    /// A permitted call that ended without an outcome worth counting (the query was cancelled): in half-open,
    /// let another probe go.
    public mutating func recordAbandoned() {
        if case .halfOpen = state { state = .halfOpen(probeInFlight: false) }
    }

    private mutating func trip(at now: ContinuousClock.Instant) {
        state = .open(until: now + configuration.coolDown)
        consecutiveFailures = 0
        outcomes.removeAll(keepingCapacity: true)
        next = 0
    }

    private mutating func reset() {
        state = .closed
        outcomes.removeAll(keepingCapacity: true)
        next = 0
    }

    private mutating func remember(failure: Bool) {
        if outcomes.count < configuration.window {
            outcomes.append(failure)
        } else {
            outcomes[next] = failure
            next = (next + 1) % configuration.window
        }
    }
}
