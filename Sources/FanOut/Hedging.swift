import CareRecords
import Providers
import Synchronization

/// Each provider's recent answer times, kept across queries, so that hedging knows what "slower than usual"
/// means for that provider: its p95 over the last `capacity` successful calls.
public final class ProviderLatencies: Sendable {
    public static let capacity = 200
    /// Fewer samples than this, and there is no p95 to hedge on yet.
    public static let minimumSamples = 20

    private let samples = Mutex<[ProviderID: [Duration]]>([:])

    public init() {}

    public func record(_ provider: ProviderID, _ latency: Duration) {
        samples.withLock { samples in
            var recent = samples[provider, default: []]
            recent.append(latency)
            if recent.count > Self.capacity { recent.removeFirst(recent.count - Self.capacity) }
            samples[provider] = recent
        }
    }

    public func p95(_ provider: ProviderID) -> Duration? {
        let recent = samples.withLock { $0[provider] ?? [] }
        guard recent.count >= Self.minimumSamples else { return nil }
        let sorted = recent.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.95).rounded(.up)) - 1)]
    }
}

extension FanOut {
    /// Asks once; if no answer has come by `after` (the provider's recent p95), asks again and takes the first
    /// good answer, cancelling the other. A first attempt that fails before the second is sent is final (retries
    /// are the transport's business, under its budget).
    static func askHedged(
        _ adapter: any ProviderAdapter, _ patient: NHSNumber, deadline: ContinuousClock.Instant,
        start: ContinuousClock.Instant, after delay: Duration
    ) async -> (outcome: ProviderOutcome, hedged: Bool) {
        let hedgeSent = Flag()
        return await withTaskGroup(of: ProviderOutcome?.self) { group in
            group.addTask { await ask(adapter, patient, deadline: deadline, start: start) }
            group.addTask {
                guard (try? await Task.sleep(until: start + delay, clock: .continuous)) != nil else { return nil }
                hedgeSent.set()
                return await ask(adapter, patient, deadline: deadline, start: start)
            }
            var firstFailure: ProviderOutcome?
            for await outcome in group {
                guard let outcome else { continue }
                if outcome.status == .ok || firstFailure != nil || !hedgeSent.isSet {
                    group.cancelAll()
                    return (outcome.status == .ok ? outcome : firstFailure ?? outcome, hedgeSent.isSet)
                }
                firstFailure = outcome
            }
            return (firstFailure ?? ProviderOutcome(
                provider: adapter.definition.id, kind: adapter.definition.kind, status: .timeout,
                latencyMilliseconds: start.duration(to: .now).milliseconds, error: "query cancelled"), true)
        }
    }
}

/// A flag set once, read from another task.
final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
