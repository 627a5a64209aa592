import Foundation
import Histogram
import Synchronization

/// Recent latency and outcomes per provider and for the gateway itself, kept in memory for the status page: the
/// last five minutes as thirty 10-second slices, each holding latency histograms and outcome counts. Memory is
/// fixed by the number of slices and providers, whatever the load: a slice's histograms are reset and reused when
/// the window moves past it. Holds provider ids, statuses and timings only — nothing about any patient.
public final class OperationalStatistics: Sendable {
    public static let window: Duration = .seconds(300)
    /// The chart's resolution, and the window's granularity: one slice drops out as each new one starts.
    public static let slice: Duration = .seconds(10)
    static let sliceCount = 30
    private static let sliceNanoseconds = slice.components.seconds * 1_000_000_000

    /// Provider answer times in the manifest's whole milliseconds, up to an hour, within 1 %.
    static func providerHistogram() -> Histogram<UInt32> {
        Histogram(highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: .two)
    }

    /// Query times and gateway overhead in microseconds (overhead is often under a millisecond), up to ten minutes,
    /// within 1 %.
    static func queryHistogram() -> Histogram<UInt32> {
        Histogram(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .two)
    }

    struct ProviderSlice {
        var latencies = OperationalStatistics.providerHistogram()
        var calls = 0
        var errors = 0
        var timeouts = 0

        mutating func reset() {
            latencies.reset()
            calls = 0
            errors = 0
            timeouts = 0
        }
    }

    struct Slice {
        /// Which 10-second slice since the statistics began this holds; -1 before first use.
        var number: Int64 = -1
        var providers: [String: ProviderSlice] = [:]
        var queries = 0
        var totals = OperationalStatistics.queryHistogram()
        var overheads = OperationalStatistics.queryHistogram()

        /// Empties the slice for `number`, keeping its histograms' memory. A provider with no calls in the slice's
        /// last use (removed from the registry a whole window ago) is dropped.
        mutating func reuse(for number: Int64) {
            self.number = number
            providers = providers.filter { $0.value.calls > 0 }
            for id in providers.keys { providers[id]?.reset() }
            queries = 0
            totals.reset()
            overheads.reset()
        }
    }

    /// The instant times are counted from.
    private let origin = ContinuousClock.now

    private func ticks(_ instant: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = origin.duration(to: instant).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// A ring: slice number `n` lives at `n % sliceCount`.
    private let slices = Mutex([Slice](repeating: Slice(), count: OperationalStatistics.sliceCount))

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
        let total = Self.microseconds(queryDuration)
        let overhead = slowestProvider.map { Self.microseconds(max(.zero, queryDuration - $0)) }
        let number = max(0, ticks(now)) / Self.sliceNanoseconds
        slices.withLock { slices in
            let index = Int(number % Int64(Self.sliceCount))
            // A late arrival for a slice already reused is dropped rather than counted in the wrong slice.
            if slices[index].number > number { return }
            if slices[index].number < number { slices[index].reuse(for: number) }
            // Only providers actually called: skipped and circuit-open ones took no time and tell nothing of latency.
            for line in providers where line.status != "skipped" && line.status != "circuit-open" {
                slices[index].providers[line.id, default: ProviderSlice()].record(line)
            }
            slices[index].queries += 1
            slices[index].totals.recordClamped(total)
            if let overhead { slices[index].overheads.recordClamped(overhead) }
        }
    }

    private static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }

    /// The memory the window holds now, in bytes (its histograms' counts); fixed once every slice has been used.
    var footprintBytes: Int {
        slices.withLock { slices in
            slices.reduce(0) { sum, slice in
                sum + slice.totals.estimatedFootprintInBytes + slice.overheads.estimatedFootprintInBytes
                    + slice.providers.values.reduce(0) { $0 + $1.latencies.estimatedFootprintInBytes }
            }
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
        let time = max(0, ticks(now))
        let current = time / Self.sliceNanoseconds
        let oldest = current - Int64(Self.sliceCount) + 1
        // The window's slices, oldest first; nil where a slice is empty or holds an older (or newer) period.
        let window: [Slice?] = slices.withLock { slices in
            (oldest...current).map { number in
                guard number >= 0 else { return nil }
                let slice = slices[Int(number % Int64(Self.sliceCount))]
                return slice.number == number ? slice : nil
            }
        }
        var totals = Self.queryHistogram()
        var overheads = Self.queryHistogram()
        var lastMinute = 0
        for (offset, slice) in window.enumerated() {
            guard let slice else { continue }
            totals.add(slice.totals)
            overheads.add(slice.overheads)
            if offset >= Self.sliceCount - 6 { lastMinute += slice.queries }
        }
        // The last minute: five whole slices and the current one as far as it has gone.
        let minuteSeconds = Double(5 * Self.sliceNanoseconds + time - current * Self.sliceNanoseconds) / 1e9
        return Snapshot(
            windowSeconds: Int(Self.window.components.seconds), sliceSeconds: Int(Self.slice.components.seconds),
            queriesPerSecond: Double(lastMinute) / minuteSeconds,
            queryP50Ms: Self.percentile(totals, 50, unit: 1000), queryP99Ms: Self.percentile(totals, 99, unit: 1000),
            overheadP50Ms: Self.percentile(overheads, 50, unit: 1000),
            overheadP99Ms: Self.percentile(overheads, 99, unit: 1000),
            providers: providers.map { provider in
                var whole = ProviderSlice()
                var series: [Double?] = []
                for slice in window {
                    let part = slice?.providers[provider.id]
                    series.append(part.flatMap { Self.percentile($0.latencies, 95, unit: 1) })
                    if let part {
                        whole.latencies.add(part.latencies)
                        whole.calls += part.calls
                        whole.errors += part.errors
                        whole.timeouts += part.timeouts
                    }
                }
                let calls = Double(max(whole.calls, 1))
                return Snapshot.Provider(
                    id: provider.id, kind: provider.kind, circuit: provider.circuit, calls: whole.calls,
                    p50Ms: Self.percentile(whole.latencies, 50, unit: 1),
                    p95Ms: Self.percentile(whole.latencies, 95, unit: 1),
                    p99Ms: Self.percentile(whole.latencies, 99, unit: 1),
                    errorRate: Double(whole.errors) / calls, timeoutRate: Double(whole.timeouts) / calls,
                    p95Series: series)
            })
    }

    /// The value at `percentile` (0–100) in milliseconds, for a histogram counting `unit`s of a millisecond; nil
    /// when it holds nothing.
    static func percentile(_ histogram: Histogram<UInt32>, _ percentile: Double, unit: Double) -> Double? {
        histogram.totalCount == 0 ? nil : Double(histogram.valueAtPercentile(percentile)) / unit
    }
}

extension OperationalStatistics.ProviderSlice {
    mutating func record(_ line: (id: String, status: String, latencyMilliseconds: Int)) {
        latencies.recordClamped(UInt64(max(0, line.latencyMilliseconds)))
        calls += 1
        switch line.status {
        case "error": errors += 1
        case "timeout": timeouts += 1
        default: break
        }
    }
}

extension Histogram {
    /// Records `value`, or the highest trackable value for anything above it, so an outlier still counts.
    mutating func recordClamped(_ value: UInt64) {
        record(Swift.min(value, highestTrackableValue))
    }
}

extension Duration {
    var fractionalMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
