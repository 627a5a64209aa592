/// When a provider's circuit breaker opens and for how long (the provider file's `circuit_breaker:` mapping).
///
/// Keys, all optional: `failures` (1–1000, default 5) consecutive failures open it; `error_rate` (0.05–1,
/// default 0.5) of the last `window` (1–1000, default 20) calls failing opens it once at least `minimum_calls`
/// (1–window, default 10) were made; `cool_down_ms` (100–600000, default 5000) later one probe call goes through.
public struct CircuitBreakerSettings: Sendable, Hashable {
    public var failureThreshold: Int
    public var errorRate: Double
    public var window: Int
    public var minimumCalls: Int
    public var coolDown: Duration

    public init(
        failureThreshold: Int = 5, errorRate: Double = 0.5, window: Int = 20, minimumCalls: Int = 10,
        coolDown: Duration = .seconds(5)
    ) {
        precondition(failureThreshold >= 1 && window >= 1 && minimumCalls >= 1 && minimumCalls <= window)
        self.failureThreshold = failureThreshold
        self.errorRate = errorRate
        self.window = window
        self.minimumCalls = minimumCalls
        self.coolDown = coolDown
    }

    static let keys: Set<String> = ["failures", "error_rate", "window", "minimum_calls", "cool_down_ms"]

    init(_ fields: YAMLFields) throws(ConfigurationError) {
        let defaults = CircuitBreakerSettings()
        let window = try fields.integer("window", in: 1...1000, required: false) ?? defaults.window
        var errorRate = defaults.errorRate
        if let text = try fields.string("error_rate", required: false) {
            guard let rate = Double(text), (0.05...1).contains(rate) else {
                throw fields.error("error_rate", "expected a fraction between 0.05 and 1, got '\(text)'")
            }
            errorRate = rate
        }
        self.init(
            failureThreshold: try fields.integer("failures", in: 1...1000, required: false) ?? defaults.failureThreshold,
            errorRate: errorRate, window: window,
            minimumCalls: try fields.integer("minimum_calls", in: 1...window, required: false)
                ?? min(defaults.minimumCalls, window),
            coolDown: .milliseconds(
                try fields.integer("cool_down_ms", in: 100...600_000, required: false) ?? 5_000))
    }
}
