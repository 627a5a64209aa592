import DequeModule
import Foundation
import Synchronization

/// Recent latency and outcomes per provider and for the gateway itself, kept in memory for the status page:
/// a rolling window (5 minutes) of samples, pruned as it goes. Holds provider ids, statuses and timings only —
/// nothing about any patient.
public final class OperationalStatistics: Sendable {
    public static let window: Duration = .seconds(300)
    /// The chart's resolution: one point per slice of the window.
    public static let slice: Duration = .seconds(10)
    /// A bound on memory whatever the load: the oldest samples go first.
    static let maximumSamples = 100_000

    /// One provider's answer, compactly (16 bytes): at 300 queries/s the window holds 90,000 of them per provider.
    struct Sample {
        /// Nanoseconds since the statistics began (see `ticks`).
        var time: Int64
        /// The manifest's whole milliseconds.
        var milliseconds: Int32
        var outcome: Outcome

        enum Outcome: UInt8 {
            case ok, error, timeout, other

            init(_ status: String) {
                switch status {
                case "ok": self = .ok
                case "error": self = .error
                case "timeout": self = .timeout
                default: self = .other
                }
            }
        }
    }

    struct Query {
        var time: Int64
        var milliseconds: Double
        /// NaN when no provider answered (so the field needs no optional's extra byte and padding).
        var overheadMilliseconds: Double
    }

    /// The instant times are counted from.
    private let origin = ContinuousClock.now

    private func ticks(_ instant: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = origin.duration(to: instant).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Oldest first; a deque, so pruning the front on every query costs only what it drops.
    private struct State {
        var providers: [String: Deque<Sample>] = [:]
        var queries: Deque<Query> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// One answered query, whatever its face (JSON view or FHIR): into the status page's window and the metrics.
    func observe(_ answer: RecordPipeline.Answer, route: String, duration: Duration, metrics: GatewayMetrics) {
        metrics.recordQuery(route: route, duration: duration, slowestProvider: answer.slowestProvider)
        record(
            providers: answer.view.providers.map { ($0.id, $0.status, $0.latencyMs) }, queryDuration: duration,
            slowestProvider: answer.slowestProvider)
    }

    /// One answered records query: each provider's line in the manifest, the query's time and the slowest provider's.
    func record(
        providers: [(id: String, status: String, latencyMilliseconds: Int)], queryDuration: Duration,
        slowestProvider: Duration?, at now: ContinuousClock.Instant = .now
    ) {
        let total = queryDuration.fractionalMilliseconds
        let overhead = slowestProvider.map { max(0, total - $0.fractionalMilliseconds) } ?? .nan
        let time = ticks(now)
        state.withLock { state in
            // Only providers actually called: skipped and circuit-open ones took no time and tell nothing of latency.
            for line in providers where line.status != "skipped" && line.status != "circuit-open" {
                state.providers[line.id, default: []].append(
                    Sample(
                        time: time, milliseconds: Int32(clamping: line.latencyMilliseconds),
                        outcome: Sample.Outcome(line.status)))
                Self.prune(&state.providers[line.id, default: []], now: time)
            }
            state.queries.append(Query(time: time, milliseconds: total, overheadMilliseconds: overhead))
            Self.prune(&state.queries, now: time)
        }
    }

    private static let windowNanoseconds = window.components.seconds * 1_000_000_000

    private static func prune<T>(_ samples: inout Deque<T>, now: Int64) where T: Timed {
        let cutoff = now - windowNanoseconds
        while let first = samples.first, first.time < cutoff || samples.count > maximumSamples {
            samples.removeFirst()
        }
    }

    /// What the status page shows, computed now.
    public struct Snapshot: Codable, Sendable {
        public struct Provider: Codable, Sendable {
            public var id: String
            public var kind: String
            public var circuit: String
            public var calls: Int
            public var p50Ms: Double?
            public var p95Ms: Double?
            public var p99Ms: Double?
            public var errorRate: Double
            public var timeoutRate: Double
            /// p95 latency per 10 s slice, oldest first; nil where there were no calls.
            public var p95Series: [Double?]
        }

        public var windowSeconds: Int
        public var sliceSeconds: Int
        public var queriesPerSecond: Double
        public var queryP50Ms: Double?
        public var queryP99Ms: Double?
        public var overheadP50Ms: Double?
        public var overheadP99Ms: Double?
        public var providers: [Provider]
    }

    /// - Parameter providers: every registered provider (id, kind, breaker state), in the registry's order, so
    ///   one with no calls yet is still listed.
    func snapshot(providers: [(id: String, kind: String, circuit: String)], at now: ContinuousClock.Instant = .now)
        -> Snapshot
    {
        let time = ticks(now)
        let (samplesByProvider, queries) = state.withLock { state in
            var copy = state
            for id in copy.providers.keys { Self.prune(&copy.providers[id, default: []], now: time) }
            Self.prune(&copy.queries, now: time)
            return (copy.providers, copy.queries)
        }
        let slices = Int(Self.window.components.seconds / Self.slice.components.seconds)
        let lastMinute = queries.filter { $0.time >= time - 60_000_000_000 }.count
        let overheads = queries.map(\.overheadMilliseconds).filter { !$0.isNaN }.sorted()
        let totals = queries.map(\.milliseconds).sorted()
        return Snapshot(
            windowSeconds: Int(Self.window.components.seconds), sliceSeconds: Int(Self.slice.components.seconds),
            queriesPerSecond: Double(lastMinute) / 60, queryP50Ms: Self.percentile(totals, 0.5),
            queryP99Ms: Self.percentile(totals, 0.99), overheadP50Ms: Self.percentile(overheads, 0.5),
            overheadP99Ms: Self.percentile(overheads, 0.99),
            providers: providers.map { provider in
                let samples = samplesByProvider[provider.id] ?? []
                let latencies = samples.map { Double($0.milliseconds) }.sorted()
                let calls = samples.count
                func rate(_ outcome: Sample.Outcome) -> Double {
                    calls == 0 ? 0 : Double(samples.filter { $0.outcome == outcome }.count) / Double(calls)
                }
                var series: [Double?] = Array(repeating: nil, count: slices)
                var bySlice: [Int: [Double]] = [:]
                for sample in samples {
                    let age = Double(time - sample.time) / 1e9
                    let slice = slices - 1 - Int(age / Double(Self.slice.components.seconds))
                    if slice >= 0, slice < slices { bySlice[slice, default: []].append(Double(sample.milliseconds)) }
                }
                for (slice, values) in bySlice { series[slice] = Self.percentile(values.sorted(), 0.95) }
                return Snapshot.Provider(
                    id: provider.id, kind: provider.kind, circuit: provider.circuit, calls: calls,
                    p50Ms: Self.percentile(latencies, 0.5), p95Ms: Self.percentile(latencies, 0.95),
                    p99Ms: Self.percentile(latencies, 0.99), errorRate: rate(.error), timeoutRate: rate(.timeout),
                    p95Series: series)
            })
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

protocol Timed {
    /// Nanoseconds since the statistics began.
    var time: Int64 { get }
}

extension OperationalStatistics.Sample: Timed {}
extension OperationalStatistics.Query: Timed {}

extension Duration {
    var fractionalMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
