import CareRecords
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /v1/patients/{nhs}/record`: the merged record as the compact JSON view, for a caller with a bearer
/// token, after the access decision, and audited before it is sent.
struct RecordRoutes: Sendable {
    let pipeline: RecordPipeline
    let authenticator: Authenticator
    let statistics: OperationalStatistics

    static let route = "/v1/patients/{nhs}/record"

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/v1/patients/:nhs/record") { request, context in
            try await record(request, context: context)
        }
    }

    func record(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let caller = try await authenticator.caller(request)
        let patient = try Self.patient(from: context)
        let requestID = UUID().uuidString.lowercased()
        let answer = try await pipeline.record(
            RecordRequest(
                caller: caller, patient: patient, categories: try Self.categories(from: request),
                breakGlassReason: request.headers[.careGateBreakGlassReason],
                deadline: try Self.requestedDeadline(from: request), requestID: requestID, route: Self.route))
        let view = answer.view
        let body = view.jsonBytes()
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        headers[.careGateComplete] = view.complete ? "true" : "false"
        headers[.careGateRequestID] = requestID
        let duration = started.duration(to: .now)
        headers[.serverTiming] = ServerTiming.value(
            total: duration, slowestProvider: answer.slowestProvider, audit: answer.auditDuration,
            policy: answer.policyDuration)
        context.logger.info(
            "record query",
            metadata: [
                "request_id": "\(requestID)", "complete": "\(view.complete)", "entries": "\(view.entries.count)",
                "withheld": "\(view.withheld)",
                "providers": "\(view.providers.map { "\($0.id)=\($0.status):\($0.latencyMs)ms" }.joined(separator: " "))",
            ])
        statistics.observe(answer, route: Self.route, duration: duration, metrics: pipeline.metrics)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func patient(from context: GatewayRequestContext) throws -> NHSNumber {
        let raw = context.parameters.get("nhs") ?? ""
        // Decoded only when there is something to decode: Foundation's `removingPercentEncoding` on every query
        // showed in `perf`, and an NHS number is plain digits.
        let text = raw.utf8.contains(UInt8(ascii: "%")) ? raw.removingPercentEncoding ?? "" : raw
        do {
            return try NHSNumber(text)
        } catch {
            throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "path parameter 'nhs': \(error)")
        }
    }

    /// `?category=medication,allergy` narrows the query; providers supplying none of them are not asked.
    static func categories(from request: Request) throws -> Set<EntryCategory>? {
        let values = request.uri.queryParameters.getAll("category")
        guard !values.isEmpty else { return nil }
        var categories: Set<EntryCategory> = []
        for name in values.flatMap({ $0.split(separator: ",") }) {
            guard let category = EntryCategory(rawValue: String(name)) else {
                throw GatewayError(
                    .badRequest, code: "invalid-category",
                    message: "query parameter 'category': unknown category '\(name)' (one of: "
                        + EntryCategory.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            categories.insert(category)
        }
        return categories
    }
}

extension RecordRoutes {
    /// `CareGate-Deadline-Ms: N` lets a client shorten the query's deadline (never lengthen it): in A&E a view in
    /// 300 ms with a provider marked "not answering" can beat a complete one later.
    static func requestedDeadline(from request: Request) throws -> Duration? {
        guard let text = request.headers[.careGateDeadline] else { return nil }
        guard let milliseconds = Int(text.trimmingCharacters(in: .whitespaces)), (1...60_000).contains(milliseconds)
        else {
            throw GatewayError(
                .badRequest, code: "invalid-deadline",
                message: "header 'CareGate-Deadline-Ms': expected whole milliseconds between 1 and 60000")
        }
        return .milliseconds(milliseconds)
    }
}

extension HTTPField.Name {
    /// A client's deadline for the whole query, in milliseconds.
    public static let careGateDeadline = HTTPField.Name("CareGate-Deadline-Ms")!

    /// `false` when a provider that was asked did not answer, so a client can tell without parsing the body.
    public static let careGateComplete = HTTPField.Name("CareGate-Complete")!
    public static let serverTiming = HTTPField.Name("Server-Timing")!

    /// Why a clinician reached a record other than the one the session was launched for (emergency purpose).
    public static let careGateBreakGlassReason = HTTPField.Name("CareGate-Break-Glass-Reason")!

    /// The request's id, as recorded in the audit trail.
    public static let careGateRequestID = HTTPField.Name("CareGate-Request-Id")!
}

/// `Server-Timing` (W3C) on a records answer, in milliseconds: how long the slowest provider took, the opt-out check
/// and access decision before any provider was asked, the wait for the durable audit write, the gateway's own time on
/// top of the slowest provider (which includes both), and the total. Browser developer tools show it; the end-to-end
/// benchmark reads it to separate the gateway's overhead from provider latency. Timings only, never patient data.
enum ServerTiming {
    static func value(total: Duration, slowestProvider: Duration?, audit: Duration, policy: Duration) -> String {
        let totalMilliseconds = total.fractionalMilliseconds
        let providers = slowestProvider.map { min($0.fractionalMilliseconds, totalMilliseconds) }
        var metrics: [String] = []
        if let providers { metrics.append("providers;dur=\(format(providers));desc=\"slowest provider\"") }
        metrics.append("policy;dur=\(format(policy.fractionalMilliseconds));desc=\"opt-out and access decision\"")
        metrics.append("audit;dur=\(format(audit.fractionalMilliseconds));desc=\"durable audit write\"")
        metrics.append("gateway;dur=\(format(totalMilliseconds - (providers ?? 0)))")
        metrics.append("total;dur=\(format(totalMilliseconds))")
        return metrics.joined(separator: ", ")
    }

    /// Milliseconds to three decimals (`12.345`), as `%.3f` would write them but without Foundation's
    /// `String(format:)`, which showed in `perf` (five of them on every answer).
    static func format(_ milliseconds: Double) -> String {
        guard milliseconds.isFinite else { return "0.000" }
        let microseconds = Int64((milliseconds * 1000).rounded())
        let magnitude = microseconds.magnitude
        let fraction = String(magnitude % 1000)
        return (microseconds < 0 ? "-" : "") + String(magnitude / 1000) + "."
            + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
