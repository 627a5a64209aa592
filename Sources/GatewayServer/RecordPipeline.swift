import CareRecords
import FanOut
import Foundation
import Logging
import Policy
import Providers
import RecordMerge

/// One request for a patient's record, once the caller's token has been verified.
public struct RecordRequest: Sendable {
    public var caller: VerifiedCaller
    public var patient: NHSNumber
    /// The categories the client asked for; nil for all.
    public var categories: Set<EntryCategory>?
    /// `CareGate-Break-Glass-Reason`, if sent.
    public var breakGlassReason: String?
    /// A shorter deadline the client asked for; never longer than the configured one.
    public var deadline: Duration?
    public var requestID: String
    /// The route template, e.g. `/v1/patients/{nhs}/record`, for the audit.
    public var route: String

    public init(
        caller: VerifiedCaller, patient: NHSNumber, categories: Set<EntryCategory>? = nil,
        breakGlassReason: String? = nil, deadline: Duration? = nil, requestID: String, route: String
    ) {
        self.caller = caller
        self.patient = patient
        self.categories = categories
        self.breakGlassReason = breakGlassReason
        self.deadline = deadline
        self.requestID = requestID
        self.route = route
    }

    /// The clinician, as a provider that is another gateway is told of them (`OnBehalfOf`).
    var onBehalfOf: OnBehalfOf {
        OnBehalfOf(
            userID: caller.userID, name: caller.name, organisation: caller.organisation, role: caller.role,
            purpose: caller.purpose.rawValue, launchPatient: caller.launchPatient,
            breakGlassReason: caller.purpose == .emergency ? breakGlassReason : nil)
    }
}

/// The request path after authentication: opt-out, access decision, fan-out, withholding, merge, audit. No HTTP
/// types here, so every API face (the JSON view, FHIR) shares one pipeline and one set of decisions.
///
/// Fails closed: when the opt-out registry cannot be read or the audit cannot be written, no record data leaves.
public struct RecordPipeline: Sendable {
    public let providers: ProviderDirectory
    public let deadline: Duration
    public let access: AccessControl
    public let metrics: GatewayMetrics
    /// When the record of what was disclosed is committed: with the answer, or just after it.
    public let auditDisclosure: AuditDisclosureTiming
    /// Kept across queries: a provider that keeps failing is reported `circuit-open` without being called.
    public let breakers = CircuitBreakers()
    /// Kept across queries: each provider's recent answer times, for hedging.
    public let latencies = ProviderLatencies()
    /// Disclosure records being written after their answers; shutdown waits for them before closing the trail.
    public let pendingDisclosures = PendingDisclosures()
    let logger: Logger

    public init(
        providers: ProviderDirectory, deadline: Duration, access: AccessControl, metrics: GatewayMetrics = GatewayMetrics(),
        auditDisclosure: AuditDisclosureTiming = .withAnswer, logger: Logger
    ) {
        self.providers = providers
        self.deadline = deadline
        self.access = access
        self.metrics = metrics
        self.auditDisclosure = auditDisclosure
        self.logger = logger
    }

    /// The view, and how long the slowest provider took (for the gateway-overhead metric).
    public struct Answer: Sendable {
        public var view: RecordView
        public var slowestProvider: Duration?
        /// Who the providers that answered say the patient is, for FHIR's Patient: each field from the first
        /// provider (in registry order) that gave it.
        public var demographics: PatientDemographics?
        /// The providers that said who the patient is, in registry order.
        public var demographicsReportedBy: [ProviderID]
        /// How long the answer waited for a durable audit write once the providers were done (part of the
        /// gateway's own time): the whole write with the answer, only what was left of the access record's after it.
        public var auditDuration: Duration = .zero
        /// How long the opt-out check and the access decision took, before any provider was asked.
        public var policyDuration: Duration = .zero
    }

    /// The merged view the caller may see, audited before it is returned.
    ///
    /// - Throws: `GatewayError` 403 for a refusal (`suppressed` for an opt-out), 503 when a store is unavailable.
    public func record(_ request: RecordRequest) async throws(GatewayError) -> Answer {
        let started = ContinuousClock.now
        let decision = try await decide(request)
        let policyDuration = started.duration(to: .now)
        var answer = try await answer(request, decision: decision)
        answer.policyDuration = policyDuration
        return answer
    }

    /// Opt-out, then the access decision; a refusal is audited and thrown.
    func decide(_ request: RecordRequest) async throws(GatewayError) -> AccessDecision {
        let optedOut: Bool
        do {
            optedOut = try await access.optOuts.isOptedOut(request.patient)
        } catch {
            logger.error("opt-out registry unavailable; refusing", metadata: ["request_id": "\(request.requestID)"])
            _ = try? await audit(request, decision: .refused, reason: "opt-out-store-unavailable")
            throw GatewayError(
                .serviceUnavailable, code: "opt-out-store-unavailable",
                message: "the opt-out registry cannot be read, so no record can be shared; try again shortly")
        }

        let decision = AccessPolicy.decide(
            caller: request.caller, patient: request.patient, breakGlassReason: request.breakGlassReason,
            optedOut: optedOut, rolePolicy: access.rolePolicy)
        metrics.recordDecision(
            allowed: decision.isAllowed, reason: decision.reason.rawValue, breakGlass: decision.breakGlass,
            viaGateway: request.caller.viaGateway)
        guard decision.isAllowed else {
            try await audit(request, decision: .refused, reason: decision.reason.rawValue)
            logger.notice(
                "access refused",
                metadata: ["request_id": "\(request.requestID)", "reason": "\(decision.reason.rawValue)"])
            throw GatewayError(
                .forbidden, code: decision.reason.rawValue, message: decision.message,
                issueType: decision.reason == .suppressed ? "suppressed" : "forbidden")
        }
        if decision.breakGlass {
            logger.notice(
                "break-glass access",
                metadata: [
                    "request_id": "\(request.requestID)", "user": "\(request.caller.userID)",
                    "org": "\(request.caller.organisation)",
                ])
        }
        return decision
    }

    /// The categories to ask providers for: what the client asked, narrowed to what the caller may see.
    func asking(_ request: RecordRequest, _ decision: AccessDecision) -> Set<EntryCategory> {
        request.categories.map { $0.intersection(decision.visibleCategories) } ?? decision.visibleCategories
    }

    private func answer(_ request: RecordRequest, decision: AccessDecision) async throws(GatewayError) -> Answer {

        // Providers are asked only for categories the caller may see; what an asked provider sends beyond them
        // arrives, is counted as withheld and goes no further.
        let asking = asking(request, decision)
        // The providers registered now; a change made while this query runs applies to the next one.
        let adapters = adapters(for: request)
        async let fanned = fanOut(request, asking: asking, adapters: adapters)
        // With the disclosure after the answer, the access is committed while the providers are asked. A failed
        // write throws out of this scope, which cancels the fan-out at once: no provider goes on being asked for an
        // access that is not on record, and the 503 does not wait for the slowest of them.
        var accessCommitted: ContinuousClock.Instant?
        if auditDisclosure == .afterAnswer {
            try await audit(
                request, decision: .allowed, reason: decision.reason.rawValue,
                providers: Self.asked(adapters, for: asking))
            accessCommitted = .now
        }
        var (result, providersDone) = await fanned

        var withheld: [CareEntry] = []
        for index in result.outcomes.indices {
            result.outcomes[index].entries.removeAll { entry in
                guard decision.withholds(entry) else { return false }
                withheld.append(entry)
                return true
            }
        }
        let received = result.entries
        let merged = RecordMerger.merge(received)
        metrics.recordDuplicatesCollapsed(received.count - merged.entries.count)
        // Counted as distinct facts, as the view would have shown them: never which, only how many.
        let withheldCount = withheld.isEmpty ? 0 : RecordMerger.merge(withheld).entries.count
        let view = RecordView(
            patient: request.patient, fanOut: result, merge: merged, withheld: withheldCount,
            breakGlass: decision.breakGlass)

        let outcomes = result.outcomes.filter { $0.status != .skipped }.map {
            ProviderOutcomeSummary(provider: $0.provider.rawValue, status: $0.status.rawValue)
        }
        // Counted in place: grouping first copied every merged entry into per-category arrays only to count them.
        var counting: [String: Int] = [:]
        for entry in view.entries { counting[entry.category.rawValue, default: 0] += 1 }
        let counts = counting
        let auditDuration: Duration
        if let accessCommitted {
            // What the answer waited for the access record once the providers were done (usually nothing).
            auditDuration = max(.zero, providersDone.duration(to: accessCommitted))
            // Not awaited: the answer goes now. The access record is already durable and comes first in the chain.
            // Counted before the answer leaves, so a shutdown after it waits for this write (`AccessStores`).
            let pipeline = self
            pendingDisclosures.start {
                await pipeline.recordDisclosure(request, providers: outcomes, entriesPerCategory: counts)
            }
        } else {
            auditDuration = try await audit(
                request, decision: .allowed, reason: decision.reason.rawValue, providers: outcomes,
                entriesPerCategory: counts)
        }
        return Answer(
            view: view, slowestProvider: result.slowestProvider,
            demographics: Self.demographics(result.outcomes.compactMap(\.patient)),
            demographicsReportedBy: result.outcomes.filter { $0.patient != nil }.map(\.provider),
            auditDuration: auditDuration)
    }

    /// The providers a request may reach: every one registered, except other gateways when the request itself came
    /// through a gateway. One hop only: that is what stops two gateways that federate with each other asking each
    /// other in a loop, and a hub's clinician is shown each gateway's own providers, not its neighbours'.
    func adapters(for request: RecordRequest) -> [any ProviderAdapter] {
        let all = providers.current
        guard request.caller.viaGateway != nil else { return all }
        return all.filter { $0.definition.kind != .gateway }
    }

    /// The providers that will be asked for `asking`, as an access record lists them before any has answered.
    static func asked(_ adapters: [any ProviderAdapter], for asking: Set<EntryCategory>) -> [ProviderOutcomeSummary] {
        adapters.filter { !asking.isDisjoint(with: $0.definition.categories) }.map {
            ProviderOutcomeSummary(provider: $0.definition.id.rawValue, status: "asked")
        }
    }

    /// Asks the providers that supply a category in `asking` (the others are `skipped`); returns their outcomes and
    /// when the last was known.
    private func fanOut(_ request: RecordRequest, asking: Set<EntryCategory>, adapters: [any ProviderAdapter]) async
        -> (FanOutResult, ContinuousClock.Instant)
    {
        guard !asking.isEmpty else {
            let skipped = adapters.map { adapter in
                ProviderOutcome(
                    provider: adapter.definition.id, kind: adapter.definition.kind, status: .skipped,
                    latencyMilliseconds: 0)
            }
            return (FanOutResult(outcomes: skipped), .now)
        }
        let fanOut = makeFanOut(adapters)
        let ends = fanOutDeadline(for: request)
        let result = await Self.withProviderContext(of: request) {
            await fanOut.query(request.patient, categories: request.categories, asking: asking, deadline: ends)
        }
        return (result, .now)
    }

    /// The fan-out to `adapters`, with this gateway's breakers, metrics and latency statistics: the records route's
    /// and the stream's alike.
    func makeFanOut(_ adapters: [any ProviderAdapter]) -> FanOut {
        FanOut(adapters: adapters, breakers: breakers, metrics: metrics.fanOut, latencies: latencies, logger: logger)
    }

    /// When the fan-out for `request` must end: the gateway's deadline, or the client's (`CareGate-Deadline-Ms`) if
    /// shorter, from now.
    func fanOutDeadline(for request: RecordRequest) -> ContinuousClock.Instant {
        .now + (request.deadline.map { min($0, deadline) } ?? deadline)
    }

    /// Runs `body` — a fan-out — with what each of its provider requests inherits: the clinician a provider that is
    /// another gateway is asked for (`OnBehalfOf`) and the request id every provider is told (`QueryCorrelation`).
    static func withProviderContext<T>(of request: RecordRequest, _ body: () async -> T) async -> T {
        await QueryCorrelation.$requestID.withValue(request.requestID) {
            await OnBehalfOf.$current.withValue(request.onBehalfOf) { await body() }
        }
    }

    static func demographics(_ reported: [PatientDemographics]) -> PatientDemographics? {
        guard !reported.isEmpty else { return nil }
        return PatientDemographics(
            nhsNumber: reported.lazy.compactMap(\.nhsNumber).first,
            givenName: reported.lazy.compactMap(\.givenName).first,
            familyName: reported.lazy.compactMap(\.familyName).first,
            birthDate: reported.lazy.compactMap(\.birthDate).first,
            gender: reported.lazy.compactMap(\.gender).first)
    }

    /// Commits the record of what an answer disclosed. The answer has gone, so a failure cannot refuse it: it is
    /// logged and counted as a failed audit write, and the trail keeps the access record without its detail.
    func recordDisclosure(
        _ request: RecordRequest, providers: [ProviderOutcomeSummary], entriesPerCategory: [String: Int]
    ) async {
        let record = auditRecord(
            request, decision: .allowed, reason: AuditRecord.disclosedReason, providers: providers,
            entriesPerCategory: entriesPerCategory)
        do {
            try await append(record)
        } catch {
            logger.error(
                "audit trail unavailable; the disclosure record of an answer already sent is missing",
                metadata: ["request_id": "\(request.requestID)", "reason": "\(error)"])
        }
    }

    /// Writes the audit record, durably, or refuses the request with 503. Returns how long the write took.
    @discardableResult
    func audit(
        _ request: RecordRequest, decision: AuditRecord.Decision, reason: String,
        providers: [ProviderOutcomeSummary] = [], entriesPerCategory: [String: Int] = [:]
    ) async throws(GatewayError) -> Duration {
        let record = auditRecord(
            request, decision: decision, reason: reason, providers: providers, entriesPerCategory: entriesPerCategory)
        do {
            return try await append(record)
        } catch {
            logger.error(
                "audit trail unavailable; refusing",
                metadata: ["request_id": "\(request.requestID)", "reason": "\(error)"])
            throw GatewayError(
                .serviceUnavailable, code: "audit-unavailable",
                message: "the access could not be recorded in the audit trail, so no record is shared; try again shortly")
        }
    }

    /// Appends `record` durably, counting the write (failed or not) in the audit metrics; returns how long it took.
    @discardableResult
    private func append(_ record: AuditRecord) async throws -> Duration {
        let started = ContinuousClock.now
        do {
            _ = try await access.audit.append(record)
        } catch {
            metrics.recordAuditWrite(started.duration(to: .now), failed: true)
            throw error
        }
        let duration = started.duration(to: .now)
        metrics.recordAuditWrite(duration, failed: false)
        return duration
    }

    private func auditRecord(
        _ request: RecordRequest, decision: AuditRecord.Decision, reason: String,
        providers: [ProviderOutcomeSummary], entriesPerCategory: [String: Int]
    ) -> AuditRecord {
        let caller = request.caller
        return AuditRecord(
            time: Date(), requestID: request.requestID, userID: caller.userID, userName: caller.name,
            organisation: caller.organisation, role: caller.role, purpose: caller.purpose.rawValue,
            breakGlassReason: request.breakGlassReason.flatMap { reason in
                // A reason refused as too long is still recorded, cut to the limit: the trail stays bounded.
                let trimmed = String(
                    reason.trimmingCharacters(in: .whitespacesAndNewlines).prefix(AccessPolicy.breakGlassReasonLimit))
                return trimmed.isEmpty ? nil : trimmed
            },
            patient: request.patient, route: request.route, decision: decision, reason: reason,
            providers: providers, entriesPerCategory: entriesPerCategory, viaGateway: caller.viaGateway)
    }
}
