import CoreMetrics
import FanOut
import Foundation
import Policy
import Prometheus
import Providers
import Synchronization

/// The gateway's metrics: one Prometheus registry per application, filled through swift-metrics, exposed at
/// `GET /metrics`. Every label is from a closed set (provider ids, route templates, outcomes, reason codes) —
/// never an NHS number, a name or a clinical value.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: any MetricsFactory

    /// The fan-out's metrics, one for the application: it keeps each provider's metric objects.
    public let fanOut: FanOutMetrics
    /// Metric objects made once: making one asks the registry (a lock, a lookup by label and dimensions, a
    /// description), and every query records several.
    private let duplicatesCollapsedCounter: CoreMetrics.Counter
    private let breakGlassCounter: CoreMetrics.Counter
    private let auditWriteTimer: CoreMetrics.Timer
    private let auditFailuresCounter: CoreMetrics.Counter
    /// Those with dimensions from a closed set (routes, decisions and reasons), made on first use.
    private let byDimensions = Mutex<[String: AnyObject]>([:])
    /// One gauge per provider presenting a client certificate, kept in step with the providers in use.
    private let certificateExpiries = Mutex<[String: Prometheus.Gauge]>([:])
    private let providerChangeGauges = Mutex<(read: Prometheus.Gauge, unapplied: Prometheus.Gauge)?>(nil)
    private let serverCertificateGauge = Mutex<Prometheus.Gauge?>(nil)
    private let reviewBacklog = Mutex<ReviewBacklogGauges>(ReviewBacklogGauges())
    private let accessVolume = Mutex<(checked: ContinuousClock.Instant?, gauge: Prometheus.Gauge?)>((nil, nil))

    private struct ReviewBacklogGauges {
        var checked: ContinuousClock.Instant?
        var queries: Prometheus.Gauge?
        var oldest: Prometheus.Gauge?
    }

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let factory = DocumentedPrometheusFactory(registry: registry)
        self.factory = factory
        fanOut = FanOutMetrics(factory: factory)
        duplicatesCollapsedCounter = CoreMetrics.Counter(label: Self.duplicatesCollapsed, factory: factory)
        breakGlassCounter = CoreMetrics.Counter(label: Self.breakGlass, factory: factory)
        auditWriteTimer = CoreMetrics.Timer(label: Self.auditWrite, factory: factory)
        auditFailuresCounter = CoreMetrics.Counter(label: Self.auditFailures, factory: factory)
    }

    /// The metric object for `label` with one set of dimensions, made the first time it is asked for.
    private func handle<Handle: AnyObject>(
        _ label: String, _ dimensions: [(String, String)], make: (String, [(String, String)]) -> Handle
    ) -> Handle {
        var key = label
        for (name, value) in dimensions { key += "\u{1F}\(name)=\(value)" }
        return byDimensions.withLock { handles in
            if let known = handles[key] as? Handle { return known }
            let made = make(label, dimensions)
            handles[key] = made
            return made
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        handle(label, dimensions) { [factory] in CoreMetrics.Timer(label: $0, dimensions: $1, factory: factory) }
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        handle(label, dimensions) { [factory] in CoreMetrics.Counter(label: $0, dimensions: $1, factory: factory) }
    }

    /// Sets `caregate_provider_client_certificate_expiry_timestamp_seconds` for the providers in use, as the
    /// scrape reads it: a reload or an admin change may have renewed a certificate, added or removed a provider,
    /// and a provider no longer using one loses its series (an alert on it would otherwise outlive it).
    public func recordClientCertificates(of definitions: [ProviderDefinition]) {
        var expiries: [String: Double] = [:]
        for definition in definitions {
            if let expiry = definition.tls?.clientCertificateExpiry {
                expiries[definition.id.rawValue] = expiry.timeIntervalSince1970
            }
        }
        certificateExpiries.withLock { gauges in
            for (provider, gauge) in gauges where expiries[provider] == nil {
                registry.unregisterGauge(gauge)
                gauges[provider] = nil
            }
            for (provider, expiry) in expiries {
                let gauge =
                    gauges[provider]
                    ?? registry.makeGauge(
                        descriptor: MetricNameDescriptor(
                            metricName: Self.clientCertificateExpiry, unitName: "",
                            helpText: Self.help[Self.clientCertificateExpiry] ?? ""),
                        labels: [("provider", provider)])
                gauges[provider] = gauge
                gauge.set(expiry)
            }
        }
    }

    /// Sets `caregate_tls_certificate_expiry_timestamp_seconds` when the gateway serves HTTPS itself (config
    /// `tls`), as the scrape reads it: a SIGHUP may have renewed the certificate. Made on the first such scrape.
    func recordServerCertificate(expiry: Date?) {
        guard let expiry else { return }
        let gauge = serverCertificateGauge.withLock { gauge in
            if let gauge { return gauge }
            let made = registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    metricName: Self.serverCertificateExpiry, unitName: "",
                    helpText: Self.help[Self.serverCertificateExpiry] ?? ""),
                labels: [])
            gauge = made
            return made
        }
        gauge.set(expiry.timeIntervalSince1970)
    }

    /// Sets the break-glass review backlog (`caregate_break_glass_awaiting_review`, and the time of the oldest query
    /// awaiting one while there is any) from `read`, at most once per `interval`: every scrape would otherwise count
    /// in the audit store. A read that fails (nil) leaves the gauges as they were.
    func refreshReviewBacklog(every interval: Duration, _ read: () async -> ReviewBacklog?) async {
        let due = reviewBacklog.withLock { Self.due(&$0.checked, every: interval) }
        guard due, let backlog = await read() else { return }
        reviewBacklog.withLock { state in
            func gauge(_ name: String) -> Prometheus.Gauge {
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.help[name] ?? ""),
                    labels: [])
            }
            let queries = state.queries ?? gauge(Self.awaitingReview)
            state.queries = queries
            queries.set(Double(backlog.queries))
            if let oldest = backlog.oldest {
                let made = state.oldest ?? gauge(Self.oldestAwaitingReview)
                state.oldest = made
                made.set(oldest.timeIntervalSince1970)
            } else if let gone = state.oldest {
                // No query awaits review: the series goes, so an alert on its age cannot fire on a stale value.
                registry.unregisterGauge(gone)
                state.oldest = nil
            }
        }
    }

    /// Sets `caregate_access_most_patients_per_user_last_hour` from `read` (the most different patients any one user
    /// queried in the last hour, from the audit store), at most once per `interval`: counting an hour of the trail is
    /// not for every scrape. A read that fails (nil) leaves the gauge as it was.
    func refreshAccessVolume(every interval: Duration, _ read: () async -> Int?) async {
        let due = accessVolume.withLock { Self.due(&$0.checked, every: interval) }
        guard due, let patients = await read() else { return }
        accessVolume.withLock { state in
            let gauge =
                state.gauge
                ?? registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: Self.mostPatientsPerUser, unitName: "", helpText: Self.help[Self.mostPatientsPerUser] ?? ""),
                    labels: [])
            state.gauge = gauge
            gauge.set(Double(patients))
        }
    }

    /// Whether a count last made at `checked` is due again, `interval` on; if so, it is marked made now (before it is
    /// read, so that scrapes arriving meanwhile do not read it too).
    private static func due(_ checked: inout ContinuousClock.Instant?, every interval: Duration) -> Bool {
        let now = ContinuousClock.now
        if let checked, checked.duration(to: now) < interval { return false }
        checked = now
        return true
    }

    /// With a shared store: the last provider change read and the providers whose latest change this replica
    /// could not apply (`SharedProviders.state`), as the scrape reads them. Made on the first such scrape.
    func recordProviderChanges(sequence: Int64, unapplied: Int) {
        let (read, failed) = providerChangeGauges.withLock { gauges in
            if let gauges { return gauges }
            func gauge(_ name: String) -> Prometheus.Gauge {
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.help[name] ?? ""),
                    labels: [])
            }
            let made = (gauge(Self.providerChangesRead), gauge(Self.providerChangesUnapplied))
            gauges = made
            return made
        }
        read.set(Double(sequence))
        failed.set(Double(unapplied))
    }

    static let providerChangesRead = "caregate_provider_changes_read"
    static let providerChangesUnapplied = "caregate_provider_changes_unapplied"
    static let clientCertificateExpiry = "caregate_provider_client_certificate_expiry_timestamp_seconds"
    static let serverCertificateExpiry = "caregate_tls_certificate_expiry_timestamp_seconds"
    static let awaitingReview = "caregate_break_glass_awaiting_review"
    static let oldestAwaitingReview = "caregate_break_glass_oldest_awaiting_review_timestamp_seconds"
    static let mostPatientsPerUser = "caregate_access_most_patients_per_user_last_hour"
    static let queryDuration = "caregate_query_duration_seconds"
    static let overhead = "caregate_gateway_overhead_seconds"
    static let duplicatesCollapsed = "caregate_merge_duplicates_collapsed_total"
    static let decisions = "caregate_policy_decisions_total"
    static let breakGlass = "caregate_break_glass_total"
    static let auditWrite = "caregate_audit_write_duration_seconds"
    static let auditFailures = "caregate_audit_failures_total"
    static let authenticationFailures = "caregate_authentication_failures_total"
    static let federatedDecisions = "caregate_federated_decisions_total"

    /// Help text for every metric; a metric without one here is a programming error caught by the tests.
    static let help: [String: String] = [
        FanOutMetrics.requestDuration: "Time from the start of a fan-out to a provider's outcome, for providers called.",
        FanOutMetrics.outcomes: "Provider outcomes per query: ok, timeout, error, circuit-open, skipped.",
        FanOutMetrics.inFlight: "Requests to the provider in flight now.",
        FanOutMetrics.entries: "Entries received from the provider.",
        FanOutMetrics.circuitState: "The provider's circuit breaker: 0 closed, 1 half-open, 2 open.",
        clientCertificateExpiry:
            "When the client certificate the gateway presents to the provider (mutual TLS) expires, as Unix time.",
        serverCertificateExpiry:
            "When the certificate the gateway presents to its own clients (config tls) expires, as Unix time.",
        awaitingReview: "Break-glass queries no one has reviewed yet (POST /admin/audit/{sequence}/reviews), in the audit store.",
        oldestAwaitingReview: "When the oldest break-glass query awaiting review was made, as Unix time (absent when none awaits).",
        mostPatientsPerUser:
            "The most different patients any one user queried in the last hour, from the audit store (counted at most every "
            + "5 minutes); GET /admin/audit/users names the user.",
        providerChangesRead:
            "The sequence number of the last provider change this replica has read from the shared store (0: none yet).",
        providerChangesUnapplied: "Providers whose latest change from the shared store this replica could not apply.",
        FanOutMetrics.hedges: "Second requests sent because the first was slower than the provider's recent p95.",
        queryDuration: "Records queries answered, by route template: time from request to response.",
        overhead: "Query time minus the slowest called provider's time: what the gateway itself adds.",
        duplicatesCollapsed: "Entries merged away because another provider reported the same fact.",
        decisions: "Access decisions by decision (allowed, refused) and reason.",
        breakGlass: "Records reached by break-glass (emergency purpose with a stated reason).",
        auditWrite: "Time to commit an audit record (group commit).",
        auditFailures: "Audit records that could not be written (the request was refused with 503).",
        authenticationFailures: "Bearer tokens refused, by reason.",
        federatedDecisions:
            "Access decisions for clinicians of another gateway (federation), by that gateway's configured id and decision.",
    ]

    /// Buckets resolving 1 ms to 10 s.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
        .milliseconds(100), .milliseconds(200), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]

    /// Finer buckets for what the gateway itself adds (50 µs to 1 s).
    static let overheadBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(1000),
    ]

    func recordQuery(route: String, duration: Duration, slowestProvider: Duration?) {
        timer(Self.queryDuration, [("route", route)]).record(elapsed: duration)
        if let slowestProvider {
            let overhead = max(.zero, duration - slowestProvider)
            timer(Self.overhead, [("route", route)]).record(elapsed: overhead)
        }
    }

    func recordDuplicatesCollapsed(_ count: Int) {
        duplicatesCollapsedCounter.increment(by: count)
    }

    /// - Parameter viaGateway: the configured id of the gateway the caller came through (a bounded set, from this
    ///   gateway's own config), if any.
    func recordDecision(allowed: Bool, reason: String, breakGlass: Bool, viaGateway: String? = nil) {
        let decision = allowed ? "allowed" : "refused"
        counter(Self.decisions, [("decision", decision), ("reason", reason)]).increment()
        if breakGlass { breakGlassCounter.increment() }
        if let viaGateway { counter(Self.federatedDecisions, [("gateway", viaGateway), ("decision", decision)]).increment() }
    }

    func recordAuditWrite(_ duration: Duration, failed: Bool) {
        auditWriteTimer.record(elapsed: duration)
        if failed { auditFailuresCounter.increment() }
    }

    func recordAuthenticationFailure(reason: String) {
        counter(Self.authenticationFailures, [("reason", reason)]).increment()
    }

    /// The Prometheus text exposition of everything recorded.
    public func exposition() -> String {
        registry.emitToString()
    }
}

extension CoreMetrics.Timer {
    func record(elapsed duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// swift-prometheus's registry behind swift-metrics, with a `# HELP` line for every metric and CareGate's
/// histogram buckets (swift-prometheus's own factory leaves help empty, which `promtool check metrics` refuses).
struct DocumentedPrometheusFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    /// The whole label is the metric name (no unit suffix is added to it).
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: label, unitName: "",
            helpText: GatewayMetrics.help[label] ?? label.replacingOccurrences(of: "_", with: " "))
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: descriptor(label), labels: dimensions, buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = label == GatewayMetrics.overhead ? GatewayMetrics.overheadBuckets : GatewayMetrics.durationBuckets
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
