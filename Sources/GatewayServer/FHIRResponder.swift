import CareRecords
import FHIRExport
import Foundation
import HTTPTypes
import Hummingbird

/// Content negotiation, errors as OperationOutcome in the negotiated format, and absolute links for FHIR routes.
enum FHIRResponder {
    /// Runs `body` in the format the client asked for; any error becomes an OperationOutcome in that format
    /// (JSON when the format itself could not be agreed).
    static func respond(
        _ request: Request, _ body: (FHIRFormat) async throws -> (HTTPResponse.Status, FHIRResource)
    ) async throws -> Response {
        var format = FHIRFormat.json
        do {
            format = try negotiate(request)
            let (status, resource) = try await body(format)
            return response(status, resource, format: format)
        } catch let error as GatewayError {
            let exporter = FHIRExporter(baseURL: baseURL(request))
            var response = response(
                error.status, exporter.operationOutcome(issueType: error.issueType, code: error.code, diagnostics: error.message),
                format: format)
            for field in error.headers where field.name != .contentType { response.headers.append(field) }
            return response
        }
    }

    static func respond(
        _ request: Request, _ body: (FHIRFormat) throws -> (HTTPResponse.Status, FHIRResource)
    ) throws -> Response {
        var format = FHIRFormat.json
        do {
            format = try negotiate(request)
            let (status, resource) = try body(format)
            return response(status, resource, format: format)
        } catch let error as GatewayError {
            let exporter = FHIRExporter(baseURL: baseURL(request))
            return response(
                error.status, exporter.operationOutcome(issueType: error.issueType, code: error.code, diagnostics: error.message),
                format: format)
        }
    }

    static func response(_ status: HTTPResponse.Status, _ resource: FHIRResource, format: FHIRFormat) -> Response {
        Response(
            status: status, headers: [.contentType: format.contentType, .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: resource.encoded(format))))
    }

    static let jsonNames: Set<String> = ["json", "application/json", "application/fhir+json", "application/json+fhir"]
    static let xmlNames: Set<String> = ["xml", "text/xml", "application/xml", "application/fhir+xml", "application/xml+fhir"]

    /// `_format` wins over `Accept`; `Accept` is read in order of preference (`q`), `*/*` meaning JSON.
    static func negotiate(_ request: Request) throws(GatewayError) -> FHIRFormat {
        if let requested = request.uri.queryParameters.get("_format") {
            let name = requested.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if jsonNames.contains(name) { return .json }
            if xmlNames.contains(name) { return .xml }
            throw GatewayError(
                .notAcceptable, code: "unsupported-format",
                message: "query parameter '_format': only json (application/fhir+json) and xml (application/fhir+xml) are produced")
        }
        guard let accept = request.headers[.accept], !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return .json }
        var choices: [(name: String, quality: Double, order: Int)] = []
        for (order, item) in accept.split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let name = parts.first, !name.isEmpty else { continue }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if quality > 0 { choices.append((name, quality, order)) }
        }
        for choice in choices.sorted(by: { $0.quality != $1.quality ? $0.quality > $1.quality : $0.order < $1.order }) {
            if jsonNames.contains(choice.name) || choice.name == "*/*" || choice.name == "application/*" { return .json }
            if xmlNames.contains(choice.name) || choice.name == "text/*" { return .xml }
        }
        throw GatewayError(
            .notAcceptable, code: "unsupported-format",
            message: "header 'Accept': only application/fhir+json and application/fhir+xml are produced")
    }

    /// The FHIR base as the client reached it: scheme from `X-Forwarded-Proto` (else http), host from `Host`.
    static func baseURL(_ request: Request) -> String {
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!].flatMap { $0 == "https" ? "https" : nil } ?? "http"
        let host = request.head.authority ?? "localhost"
        let safeHost = host.allSatisfy { $0.isLetter || $0.isNumber || ".-:[]".contains($0) } ? host : "localhost"
        return "\(scheme)://\(safeHost)/fhir"
    }

    /// This request's URL with `_offset` and `_count` set: a page link a client can follow as is.
    static func link(_ request: Request, offset: Int, count: Int) -> String {
        var components = URLComponents()
        components.queryItems = request.uri.queryParameters
            .filter { $0.key != "_offset" && $0.key != "_count" }
            .map { URLQueryItem(name: String($0.key), value: String($0.value)) }
            + [URLQueryItem(name: "_count", value: String(count)), URLQueryItem(name: "_offset", value: String(offset))]
        let base = baseURL(request).dropLast("/fhir".count)
        // `|` and `:` in values are encoded too, so the link survives any client that re-parses it.
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "|", with: "%7C") ?? ""
        return "\(base)\(request.uri.path)?\(query)"
    }
}

/// `_count` (0…1000, default 100; 0 returns only the total) and `_offset` (0 or more): paging without keeping
/// results between pages.
struct Page {
    var count: Int
    var offset: Int

    init(_ parameters: Parameters) throws(GatewayError) {
        count = FHIRRoutes.defaultCount
        offset = 0
        if let text = parameters.get("_count") {
            guard let value = Int(text), value >= 0 else {
                throw GatewayError(.badRequest, code: "invalid-count", message: "query parameter '_count': expected a whole number of 0 or more")
            }
            count = min(value, FHIRRoutes.maximumCount)
        }
        if let text = parameters.get("_offset") {
            guard let value = Int(text), value >= 0 else {
                throw GatewayError(.badRequest, code: "invalid-offset", message: "query parameter '_offset': expected a whole number of 0 or more")
            }
            offset = value
        }
    }
}

/// `$everything`'s `start` and `end` (care dates, inclusive) and `_since`. CareGate keeps no record of when a
/// provider last changed an entry, so `_since` is taken as a lower bound on the entry's own date. With any of
/// them, entries without a date are left out.
struct DateRange {
    var start: String?
    var end: String?

    init(_ parameters: Parameters) throws(GatewayError) {
        func date(_ name: String) throws(GatewayError) -> String? {
            guard let text = parameters.get(name) else { return nil }
            guard let date = ClinicalDate(text) else {
                throw GatewayError(
                    .badRequest, code: "invalid-date", message: "query parameter '\(name)': expected a date such as 2024-05-01")
            }
            return String(date.text.prefix(10))
        }
        let since = try date("_since")
        let start = try date("start")
        self.start = [since, start].compactMap { $0 }.max()
        end = try date("end")
    }

    func contains(_ date: ClinicalDate?) -> Bool {
        guard start != nil || end != nil else { return true }
        guard let date else { return false }
        let day = String(date.text.prefix(10))
        if let start, day < start.prefix(day.count) { return false }
        if let end, day > end.prefix(day.count) { return false }
        return true
    }
}
