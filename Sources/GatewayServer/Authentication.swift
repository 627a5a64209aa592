import HTTPTypes
import Hummingbird
import Policy

/// Turns a request's `Authorization: Bearer <JWT>` into a verified caller, or a 401 OperationOutcome that says
/// what was wrong with the token (never any part of it) and a `WWW-Authenticate` challenge (RFC 6750).
struct Authenticator: Sendable {
    let issuers: TrustedIssuers
    let metrics: GatewayMetrics

    func caller(_ request: Request) async throws(GatewayError) -> VerifiedCaller {
        do {
            return try await issuers.verify(request.headers[.authorization] ?? "")
        } catch {
            metrics.recordAuthenticationFailure(reason: error.reason.rawValue)
            var challenge = #"Bearer realm="caregate""#
            if error.reason != .missingToken {
                challenge += #", error="invalid_token", error_description="\#(error.description.replacingOccurrences(of: "\"", with: "'"))""#
            }
            throw GatewayError(
                .unauthorized, code: error.reason.rawValue, message: error.description,
                issueType: error.reason == .expired ? "expired" : "login",
                headers: [.wwwAuthenticate: challenge])
        }
    }
}

/// Admits only operators: a valid token carrying the `caregate.admin` scope (401 without a valid token,
/// 403 without the scope). On the audit routes (`admitsAuditors`), information governance reviewers with the
/// `caregate.audit` scope too.
struct OperatorOnlyMiddleware: RouterMiddleware {
    let authenticator: Authenticator
    /// The audit routes also let in information governance reviewers (`VerifiedCaller.auditorScope`).
    var admitsAuditors = false

    func handle(
        _ request: Request, context: GatewayRequestContext,
        next: (Request, GatewayRequestContext) async throws -> Response
    ) async throws -> Response {
        let caller = try await authenticator.caller(request)
        guard caller.isOperator || (admitsAuditors && caller.isAuditor) else {
            throw GatewayError(
                .forbidden, code: "operator-scope-required",
                message: admitsAuditors
                    ? "the audit routes need a token with the scope \(VerifiedCaller.operatorScope) or \(VerifiedCaller.auditorScope)"
                    : "the admin API needs a token with the scope \(VerifiedCaller.operatorScope)")
        }
        context.logger.notice(
            "admin request",
            metadata: ["user": "\(caller.userID)", "org": "\(caller.organisation)", "method": "\(request.method)",
                       "route": "\(context.endpointPath ?? "?")"])
        var context = context
        context.operatorUserID = caller.userID
        return try await next(request, context)
    }
}
