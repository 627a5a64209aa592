import Synchronization

/// How many retries a provider may get: a token bucket filled by its own traffic. Every request adds `ratio`
/// of a token (up to `cap`); a retry spends a whole one. So retries are at most `ratio` of the requests, and a
/// provider that is down does not get its load multiplied by the gateway retrying into it.
public final class RetryBudget: Sendable {
    public let ratio: Double
    public let cap: Double
    private let tokens = Mutex<Double>(0)

    /// - Parameter ratio: retries allowed per request (0 disables retries; 0.1 allows one retry per ten requests).
    public init(ratio: Double, cap: Double = 10) {
        self.ratio = max(0, ratio)
        self.cap = cap
    }

    /// One request went out.
    public func recordRequest() {
        tokens.withLock { $0 = min(cap, $0 + ratio) }
    }

    /// Takes one retry from the budget if there is one.
    public func withdraw() -> Bool {
        tokens.withLock { tokens in
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }
}
