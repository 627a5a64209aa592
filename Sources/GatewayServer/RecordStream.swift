import CareRecords
import FanOut
import Foundation
import Hummingbird
import Policy
import Providers
import RecordMerge
import Synchronization

/// `GET /v1/patients/{nhs}/record/stream`: the record as server-sent events, one `provider` event per provider
/// as it answers, then `complete` with the manifest — so a clinician sees the first facts while slow providers
/// are still being waited for.
///
/// - `event: provider` — `{"provider", "kind", "status", "latencyMs", "error"?, "added": [entry…],
///   "updated": [{"replaces": [id…], "entry": entry}]}`: facts new to this stream, and facts already sent that
///   another provider has now also reported (their merged entry, with the id or ids it replaces).
/// - `event: complete` — `{"patient", "complete", "providers": [manifest…], "entries", "withheld", "breakGlass"?}`.
/// - a `: keep-alive` comment every second, so a client that has gone away is noticed and every outstanding
///   provider request is cancelled.
///
/// Policy is decided, and the access audited, before the first byte; a refusal is an ordinary 401/403/503
/// OperationOutcome. When the stream ends a second audit record (`stream-complete`) records each provider's
/// outcome and the entries sent per category.
struct RecordStreamRoutes: Sendable {
    let pipeline: RecordPipeline
    let authenticator: Authenticator

    static let route = "/v1/patients/{nhs}/record/stream"
    static let keepAlive: Duration = .seconds(1)

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/v1/patients/:nhs/record/stream") { request, context in
            try await stream(request, context: context)
        }
    }

    func stream(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let caller = try await authenticator.caller(request)
        let patient = try RecordRoutes.patient(from: context)
        let recordRequest = RecordRequest(
            caller: caller, patient: patient, categories: try RecordRoutes.categories(from: request),
            breakGlassReason: request.headers[.careGateBreakGlassReason],
            deadline: try RecordRoutes.requestedDeadline(from: request), requestID: UUID().uuidString.lowercased(),
            route: Self.route)
        let session = try await pipeline.beginStream(recordRequest)
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        headers[.careGateRequestID] = recordRequest.requestID
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let (events, sink) = AsyncStream.makeStream(of: String.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await session.run { name, json in sink.yield("event: \(name)\ndata: \(json)\n\n") }
                        sink.finish()
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: Self.keepAlive)
                            sink.yield(": keep-alive\n\n")
                        }
                    }
                    // A write to a client that has gone fails: leaving the group cancels the fan-out with it.
                    for await text in events { try await writer.write(ByteBuffer(string: text)) }
                    group.cancelAll()
                }
                try await writer.finish(nil)
            })
    }
}

extension RecordPipeline {
    /// Decides and audits the access now (so a refusal can still be a plain 403); the session then streams.
    func beginStream(_ request: RecordRequest) async throws(GatewayError) -> RecordStreamSession {
        let decision = try await decide(request)
        let asking = asking(request, decision)
        try await audit(
            request, decision: .allowed, reason: decision.reason.rawValue,
            providers: Self.asked(adapters(for: request), for: asking))
        return RecordStreamSession(pipeline: self, request: request, decision: decision, asking: asking)
    }
}

struct RecordStreamSession: Sendable {
    let pipeline: RecordPipeline
    let request: RecordRequest
    let decision: AccessDecision
    let asking: Set<EntryCategory>

    struct Update: Encodable {
        var replaces: [String]
        var entry: MergedEntry
    }

    struct ProviderEvent: Encodable {
        var provider: String
        var kind: String
        var status: String
        var latencyMs: Int
        var error: String?
        var added: [MergedEntry]
        var updated: [Update]
    }

    struct CompleteEvent: Encodable {
        var patient: RecordView.Patient
        var complete: Bool
        var providers: [RecordView.ProviderLine]
        var entries: Int
        var withheld: Int
        var breakGlass: Bool?
    }

    /// What has been sent so far, to turn each new merge into additions and updates.
    final class Progress: Sendable {
        struct State {
            var received: [CareEntry] = []
            var withheld: [CareEntry] = []
            /// Merged entries sent, by id.
            var sent: [String: MergedEntry] = [:]
            /// Which sent id each provider entry is in now.
            var sentBySource: [SourceReference: String] = [:]
        }
        let state = Mutex(State())

        /// Adds one provider's visible and withheld entries; returns what is new and what changed.
        func add(visible: [CareEntry], withheld: [CareEntry]) -> (added: [MergedEntry], updated: [Update]) {
            state.withLock { state in
                state.received += visible
                state.withheld += withheld
                var added: [MergedEntry] = []
                var updated: [Update] = []
                for entry in RecordMerger.merge(state.received).entries {
                    if let previous = state.sent[entry.id] {
                        if previous != entry { updated.append(Update(replaces: [entry.id], entry: entry)) }
                    } else {
                        let replaced = Set(entry.sources.compactMap { state.sentBySource[$0] }).sorted()
                        if replaced.isEmpty {
                            added.append(entry)
                        } else {
                            updated.append(Update(replaces: replaced, entry: entry))
                            for id in replaced { state.sent[id] = nil }
                        }
                    }
                    state.sent[entry.id] = entry
                    for source in entry.sources { state.sentBySource[source] = entry.id }
                }
                return (added, updated)
            }
        }

        var summary: (entries: [MergedEntry], withheld: Int) {
            state.withLock { state in
                (Array(state.sent.values), state.withheld.isEmpty ? 0 : RecordMerger.merge(state.withheld).entries.count)
            }
        }
    }

    /// Runs the fan-out, emitting `(event name, JSON)` as providers answer and once at the end.
    func run(emit: @escaping @Sendable (String, String) -> Void) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let progress = Progress()
        let decision = decision
        var result = FanOutResult(outcomes: [])
        if !asking.isEmpty {
            let fanOut = pipeline.makeFanOut(pipeline.adapters(for: request))
            let ends = pipeline.fanOutDeadline(for: request)
            result = await RecordPipeline.withProviderContext(of: request) {
                await fanOut.query(request.patient, categories: request.categories, asking: asking, deadline: ends) {
                    outcome in
                    var visible: [CareEntry] = []
                    var withheld: [CareEntry] = []
                    for entry in outcome.entries {
                        if decision.withholds(entry) { withheld.append(entry) } else { visible.append(entry) }
                    }
                    let (added, updated) = progress.add(visible: visible, withheld: withheld)
                    let event = ProviderEvent(
                        provider: outcome.provider.rawValue, kind: outcome.kind.rawValue,
                        status: outcome.status.rawValue, latencyMs: outcome.latencyMilliseconds,
                        error: outcome.error, added: added, updated: updated)
                    if let data = try? encoder.encode(event) {
                        emit("provider", String(decoding: data, as: UTF8.self))
                    }
                    // Another gateway's providers that did not answer it: a line each, as in the view's manifest.
                    for line in outcome.relayedLines {
                        let relayed = ProviderEvent(
                            provider: line.provider.rawValue, kind: line.kind.rawValue,
                            status: line.status.rawValue, latencyMs: line.latencyMilliseconds, error: line.error,
                            added: [], updated: [])
                        if let data = try? encoder.encode(relayed) {
                            emit("provider", String(decoding: data, as: UTF8.self))
                        }
                    }
                }
            }
        }
        if Task.isCancelled { return }
        for index in result.outcomes.indices {
            result.outcomes[index].entries.removeAll { decision.withholds($0) }
        }
        let (entries, withheld) = progress.summary
        let view = RecordView(
            patient: request.patient, fanOut: result, merge: RecordMerger.merge([]), withheld: withheld,
            breakGlass: decision.breakGlass)
        let complete = CompleteEvent(
            patient: view.patient, complete: view.complete, providers: view.providers, entries: entries.count,
            withheld: withheld, breakGlass: view.breakGlass)
        if let data = try? encoder.encode(complete) { emit("complete", String(decoding: data, as: UTF8.self)) }
        // The access was audited before the first byte; this records how it ended.
        _ = try? await pipeline.audit(
            request, decision: .allowed, reason: "stream-complete",
            providers: result.outcomes.filter { $0.status != .skipped }.map {
                ProviderOutcomeSummary(provider: $0.provider.rawValue, status: $0.status.rawValue)
            },
            entriesPerCategory: Dictionary(grouping: entries, by: \.category.rawValue).mapValues(\.count))
    }
}
