import Foundation
import HTTPTypes
import Hummingbird

/// An error answered to the caller as a FHIR R4 `OperationOutcome` (JSON), so a portal handles CareGate's errors
/// the way it handles any FHIR server's:
///
/// ```json
/// {"resourceType": "OperationOutcome",
///  "issue": [{"severity": "error", "code": "forbidden",
///             "details": {"coding": [{"system": "https://caregate.example/CodeSystem/error",
///                                     "code": "no-legitimate-relationship"}]},
///             "diagnostics": "<what is wrong and where>"}]}
/// ```
///
/// `code` (CareGate's machine code, in `details.coding`) is a closed set; `message` (`diagnostics`) never quotes
/// patient data or any part of a token back.
public struct GatewayError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// CareGate's own reason code, e.g. `invalid-nhs-number`, `suppressed`.
    public var code: String
    public var message: String
    /// The FHIR `IssueType` (`invalid`, `login`, `forbidden`, `suppressed`, `transient`…).
    public var issueType: String
    /// Extra response headers, e.g. `WWW-Authenticate` on 401.
    public var headers: HTTPFields

    /// The code system of `details.coding` in every OperationOutcome CareGate sends.
    public static let codeSystem = "https://caregate.example/CodeSystem/error"

    public init(
        _ status: HTTPResponse.Status, code: String, message: String, issueType: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.issueType = issueType ?? Self.issueType(for: status)
        self.headers = headers
    }

    /// The FHIR issue type that fits an HTTP status when nothing more specific applies.
    static func issueType(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400, 422: "invalid"
        case 401: "login"
        case 403: "forbidden"
        case 404: "not-found"
        case 406, 415: "not-supported"
        case 413: "too-costly"
        case 503, 504: "transient"
        default: "exception"
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/fhir+json"
        headers[.cacheControl] = "no-store"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: operationOutcomeJSON)))
    }

    /// The OperationOutcome body.
    public var operationOutcomeJSON: Data {
        let outcome = OperationOutcomeBody(issue: [
            .init(
                severity: "error", code: issueType,
                details: .init(coding: [.init(system: Self.codeSystem, code: code)]), diagnostics: message)
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(outcome)) ?? Data()
    }
}

/// The JSON shape of a FHIR R4 OperationOutcome, as far as CareGate fills it.
struct OperationOutcomeBody: Codable, Sendable {
    struct Issue: Codable, Sendable {
        struct Details: Codable, Sendable {
            struct Coding: Codable, Sendable {
                var system: String
                var code: String
            }
            var coding: [Coding]
        }
        var severity: String
        var code: String
        var details: Details?
        var diagnostics: String?
    }

    var resourceType = "OperationOutcome"
    var issue: [Issue]
}
