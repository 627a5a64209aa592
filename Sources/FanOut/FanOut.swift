import CareRecords
import Logging
import NIOCore
import NIOPosix
import Providers

/// Asks every eligible provider for one patient at once, under one shared deadline.
///
/// Each provider runs in its own task with its own deadline (the query's deadline or its `timeout_ms`, whichever
/// comes first). A provider that misses its deadline is reported `timeout` and its task cancelled; the fan-out
/// never waits for it, even when the provider's code ignores cancellation. Cancelling the calling task (a client
/// that disconnects) cancels every outstanding provider request.
public struct FanOut: Sendable {
    public let adapters: [any ProviderAdapter]
    private let breakers: CircuitBreakers?
    private let metrics: FanOutMetrics?
    private let latencies: ProviderLatencies?
    private let logger: Logger
    private let timers: any EventLoopGroup

    /// - Parameters:
    ///   - breakers: the providers' circuit breakers, kept across queries; nil calls every provider.
    ///   - metrics: where per-provider latency, outcomes and in-flight counts go; nil records none.
    ///   - latencies: providers' recent answer times, kept across queries, for hedging (providers with
    ///     `hedge: true`); nil hedges nothing.
    ///   - timers: where the providers' deadlines are scheduled.
    public init(
        adapters: [any ProviderAdapter], breakers: CircuitBreakers? = nil, metrics: FanOutMetrics? = nil,
        latencies: ProviderLatencies? = nil, logger: Logger = Logger(label: "caregate.fanout"),
        timers: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.adapters = adapters
        self.breakers = breakers
        self.metrics = metrics
        self.latencies = latencies
        self.logger = logger
        self.timers = timers
    }

    /// - Parameters:
    ///   - categories: the categories wanted; entries of other categories are dropped. `nil` keeps everything.
    ///   - asking: providers supplying none of these categories are `skipped` (not called); by default
    ///     `categories`. The policy narrows it to what the caller may see, while still receiving what an asked
    ///     provider sends beyond that, so it can count what it withholds.
    ///   - deadline: when the whole query must be answered.
    ///   - onOutcome: called with each called provider's outcome as soon as it is known (entries already narrowed
    ///     to `categories`), in the order they arrive — for progressive results.
    public func query(
        _ patient: NHSNumber, categories: Set<EntryCategory>? = nil, asking: Set<EntryCategory>? = nil,
        deadline: ContinuousClock.Instant, onOutcome: (@Sendable (ProviderOutcome) async -> Void)? = nil
    ) async -> FanOutResult {
        let asking = asking ?? categories
        let start = ContinuousClock.now
        var outcomes: [ProviderOutcome?] = Array(repeating: nil, count: adapters.count)
        let (stream, continuation) = AsyncStream.makeStream(of: (Int, ProviderOutcome).self)
        var calls: [Int: Task<Void, Never>] = [:]
        // When each called provider's time is up; one watchdog task serves them all.
        var deadlines: [(index: Int, deadline: ContinuousClock.Instant)] = []

        for (index, adapter) in adapters.enumerated() {
            let definition = adapter.definition
            if let asking, asking.isDisjoint(with: definition.categories) {
                outcomes[index] = ProviderOutcome(
                    provider: definition.id, kind: definition.kind, status: .skipped, latencyMilliseconds: 0)
                continue
            }
            if let breakers, !breakers.permit(definition.id, configuration: definition.circuitBreaker, at: start) {
                outcomes[index] = ProviderOutcome(
                    provider: definition.id, kind: definition.kind, status: .circuitOpen, latencyMilliseconds: 0,
                    error: "not called: circuit open after repeated failures")
                continue
            }
            let providerDeadline = min(deadline, start + .milliseconds(definition.timeoutMilliseconds))
            let inFlight = metrics?.inFlight(definition.id)
            calls[index] = Task {
                inFlight?.increment()
                defer { inFlight?.decrement() }
                let outcome: ProviderOutcome
                if definition.hedge, let latencies, let p95 = latencies.p95(definition.id) {
                    let (answer, hedged) = await Self.askHedged(
                        adapter, patient, deadline: providerDeadline, start: start, after: p95)
                    outcome = answer
                    if hedged { metrics?.recordHedge(definition.id) }
                } else {
                    outcome = await Self.ask(adapter, patient, deadline: providerDeadline, start: start)
                }
                if outcome.status == .ok { latencies?.record(definition.id, start.duration(to: .now)) }
                continuation.yield((index, outcome))
            }
            deadlines.append((index, providerDeadline))
        }
        // Reports each provider still unanswered at its deadline as a timeout (the loop below ignores a timeout
        // for a provider that has answered). One timer per distinct deadline, scheduled on an event loop and
        // cancelled when the fan-out ends: a sleeping Swift task would cost a task and a Dispatch timer per query,
        // and the timer would still fire, waking a thread, long after the answer had gone.
        let timerLoop = timers.any()
        let now = ContinuousClock.now
        let watchdogs = Dictionary(grouping: deadlines, by: \.deadline).map { [adapters] deadline, due in
            timerLoop.scheduleTask(deadline: .now() + TimeAmount(now.duration(to: deadline))) {
                let budget = start.duration(to: deadline).roundedMilliseconds
                for (index, _) in due {
                    let definition = adapters[index].definition
                    continuation.yield(
                        (
                            index,
                            ProviderOutcome(
                                provider: definition.id, kind: definition.kind, status: .timeout,
                                latencyMilliseconds: budget, error: Self.noAnswer(within: budget))
                        ))
                }
            }
        }

        var pending = calls.count
        var slowest: Duration?
        if pending > 0 {
            await withTaskCancellationHandler {
                for await (index, outcome) in stream where outcomes[index] == nil {
                    outcomes[index] = outcome
                    slowest = start.duration(to: .now)
                    calls[index]?.cancel()
                    if let onOutcome {
                        var narrowed = outcome
                        if let categories { narrowed.entries.removeAll { !categories.contains($0.category) } }
                        await onOutcome(narrowed)
                    }
                    pending -= 1
                    if pending == 0 { break }
                }
            } onCancel: {
                continuation.finish()
            }
        }
        continuation.finish()
        for task in calls.values { task.cancel() }
        for watchdog in watchdogs { watchdog.cancel() }

        let end = ContinuousClock.now
        for index in calls.keys {
            breakers?.record(adapters[index].definition.id, status: outcomes[index]?.status ?? .skipped, at: end)
        }
        let elapsed = start.duration(to: end).milliseconds
        var result = FanOutResult(
            outcomes: outcomes.enumerated().map { index, outcome in
                var outcome =
                    outcome
                    ?? ProviderOutcome(
                        provider: adapters[index].definition.id, kind: adapters[index].definition.kind,
                        status: .timeout, latencyMilliseconds: elapsed, error: "query cancelled")
                if let categories { outcome.entries.removeAll { !categories.contains($0.category) } }
                return outcome
            },
            slowestProvider: slowest)
        if let metrics {
            for outcome in result.outcomes { metrics.record(outcome) }
            if let states = breakers?.states {
                for adapter in adapters {
                    if let state = states[adapter.definition.id] { metrics.record(adapter.definition.id, state: state) }
                }
            }
        }
        for outcome in result.outcomes where outcome.status != .ok && outcome.status != .skipped {
            logger.info(
                "provider did not answer",
                metadata: [
                    "provider": "\(outcome.provider)", "status": "\(outcome.status.rawValue)",
                    "latency_ms": "\(outcome.latencyMilliseconds)", "reason": "\(outcome.error ?? "")",
                ])
        }
        // After the metrics: the providers behind another gateway are not this gateway's to label metrics with.
        if result.outcomes.contains(where: { !$0.relayed.isEmpty }) {
            result.outcomes = result.outcomes.flatMap { [$0] + $0.relayedLines }
        }
        return result
    }

    static func ask(
        _ adapter: any ProviderAdapter, _ patient: NHSNumber, deadline: ContinuousClock.Instant,
        start: ContinuousClock.Instant
    ) async -> ProviderOutcome {
        let definition = adapter.definition
        do {
            let record = try await adapter.fetch(patient, deadline: deadline)
            var outcome = ProviderOutcome(
                provider: definition.id, kind: definition.kind, status: .ok,
                latencyMilliseconds: start.duration(to: .now).milliseconds,
                entries: record.entries, patient: record.patient)
            outcome.relayed = record.relayedOutcomes
            return outcome
        } catch {
            let now = ContinuousClock.now
            var reason = error.reason
            // The adapter's own clock can notice the deadline a moment before the fan-out's timer does: the same
            // timeout then reads the same way whichever noticed it first.
            if error.kind == .timeout, now >= deadline {
                reason = noAnswer(within: start.duration(to: deadline).roundedMilliseconds)
            }
            return ProviderOutcome(
                provider: definition.id, kind: definition.kind, status: error.kind == .timeout ? .timeout : .error,
                latencyMilliseconds: start.duration(to: now).milliseconds, error: reason)
        }
    }

    /// What a provider that did not answer by its deadline is reported with.
    static func noAnswer(within budget: Int) -> String {
        "no answer within \(budget) ms"
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// Milliseconds rounded to the nearest: a budget computed from two clock readings a few microseconds apart
    /// should still read as the 300 ms it was.
    var roundedMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds * 1000 + (attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
    }
}
