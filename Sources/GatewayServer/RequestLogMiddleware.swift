import Hummingbird
import Logging
import Providers

/// One log line per request: method, route template (never the raw path, which holds NHS numbers), status and
/// latency, and for a request another CareGate gateway made for one of its queries, that query's request id
/// (`upstream_request_id`, when well formed), so the two gateways' logs can be joined. Probes and scrapes (`/healthz`,
/// `/readyz`, `/metrics`, `/status`) are logged at debug only.
struct RequestLogMiddleware: RouterMiddleware {
    static let quietRoutes: Set<String> = ["/healthz", "/readyz", "/metrics", "/status", "/status.json"]

    func handle(
        _ request: Request, context: GatewayRequestContext,
        next: (Request, GatewayRequestContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context, status: Int(response.status.code), started: started)
            return response
        } catch let error as any HTTPResponseError {
            log(request, context, status: Int(error.status.code), started: started)
            throw error
        } catch {
            log(request, context, status: 500, started: started)
            throw error
        }
    }

    private func log(
        _ request: Request, _ context: GatewayRequestContext, status: Int, started: ContinuousClock.Instant
    ) {
        let route = context.endpointPath ?? "unmatched"
        let level: Logger.Level = Self.quietRoutes.contains(route) ? .debug : .info
        var metadata: Logger.Metadata = [
            "method": "\(request.method)", "route": "\(route)", "status": "\(status)",
            "latency_ms": "\(String(format: "%.1f", started.duration(to: .now).fractionalMilliseconds))",
        ]
        if let upstream = request.headers[.careGateRequestID], QueryCorrelation.isWellFormed(upstream) {
            metadata["upstream_request_id"] = "\(upstream)"
        }
        context.logger.log(level: level, "request", metadata: metadata)
    }
}
