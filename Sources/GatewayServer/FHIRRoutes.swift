import CareRecords
import FHIRExport
import Foundation
import HTTPTypes
import Hummingbird
import Policy

/// The merged record as FHIR R4, for portals and EPRs with off-the-shelf FHIR clients:
///
/// - `GET /fhir/metadata` — the CapabilityStatement (no token needed)
/// - `GET /fhir/Patient/{nhs}` and `GET /fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}`
/// - `GET /fhir/Patient/{nhs}/$everything` — `_type`, `start`, `end`, `_since`, `_count`, `_offset`
/// - `GET /fhir/{Type}?patient={nhs}` for each clinical type — `_count`, `_offset`
///
/// JSON by default, XML on `Accept: application/fhir+xml` or `_format=xml`; 406 for anything else. Every query
/// goes through the same pipeline as `/v1/patients/{nhs}/record` — authentication, opt-out, decision, audit —
/// and nothing is kept between pages: each page asks the providers again.
struct FHIRRoutes: Sendable {
    let pipeline: RecordPipeline
    let authenticator: Authenticator
    let statistics: OperationalStatistics
    let softwareVersion: String

    static let defaultCount = 100
    static let maximumCount = 1000

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/fhir/metadata") { request, _ in
            try FHIRResponder.respond(request) { format in
                let exporter = FHIRExporter(baseURL: FHIRResponder.baseURL(request))
                let date = Date().formatted(.iso8601.year().month().day())
                return (.ok, exporter.capabilityStatement(softwareVersion: softwareVersion, date: date))
            }
        }
        router.get("/fhir/Patient/:nhs/$everything") { request, context in
            try await FHIRResponder.respond(request) { format in
                try await everything(request, context)
            }
        }
        router.get("/fhir/Patient/:nhs") { request, context in
            try await FHIRResponder.respond(request) { format in
                try await readPatient(request, context)
            }
        }
        router.get("/fhir/:type") { request, context in
            try await FHIRResponder.respond(request) { format in
                try await search(request, context, type: context.parameters.get("type") ?? "")
            }
        }
        // Listed on its own: the router's `Patient` branch (for `Patient/{nhs}`) would otherwise shadow `:type`.
        router.get("/fhir/Patient") { request, context in
            try await FHIRResponder.respond(request) { format in
                try await search(request, context, type: "Patient")
            }
        }
    }

    // MARK: - Interactions

    private func everything(_ request: Request, _ context: GatewayRequestContext) async throws -> (HTTPResponse.Status, FHIRResource) {
        let caller = try await authenticator.caller(request)
        let patient = try RecordRoutes.patient(from: context)
        let parameters = request.uri.queryParameters
        let types = try Self.types(parameters.getAll("_type"))
        let range = try DateRange(parameters)
        let page = try Page(parameters)
        let clinical = types.filter { $0 != .patient }
        let categories = Set(clinical.flatMap(\.categories))
        let (answer, exporter) = try await query(
            request, context, caller: caller, patient: patient, categories: categories.isEmpty ? [] : categories,
            route: "/fhir/Patient/{nhs}/$everything")

        var resources: [FHIRResource] = []
        if types.contains(.patient), let patientResource = Self.patientResource(answer, patient, exporter) {
            resources.append(patientResource)
        }
        resources += answer.view.entries
            .filter { clinical.contains(FHIRResourceType.of($0)) && range.contains($0.date) }
            .map { exporter.resource(for: $0, patient: patient) }
        return (.ok, Self.bundle(resources, page: page, request: request, exporter: exporter, answer: answer))
    }

    private func readPatient(_ request: Request, _ context: GatewayRequestContext) async throws -> (HTTPResponse.Status, FHIRResource) {
        let caller = try await authenticator.caller(request)
        let patient = try RecordRoutes.patient(from: context)
        let (answer, exporter) = try await query(
            request, context, caller: caller, patient: patient, categories: nil, route: "/fhir/Patient/{nhs}")
        guard let resource = Self.patientResource(answer, patient, exporter) else {
            throw GatewayError(.notFound, code: "unknown-patient", message: "no provider that answered knows this patient")
        }
        return (.ok, resource)
    }

    private func search(
        _ request: Request, _ context: GatewayRequestContext, type name: String
    ) async throws -> (HTTPResponse.Status, FHIRResource) {
        guard let type = FHIRResourceType(rawValue: name) else {
            throw GatewayError(
                .notFound, code: "unknown-resource-type",
                message: "resource type '\(name.prefix(64))' is not served here (see /fhir/metadata)", issueType: "not-supported")
        }
        let caller = try await authenticator.caller(request)
        let parameters = request.uri.queryParameters
        let page = try Page(parameters)
        if type == .patient {
            guard let token = parameters.get("identifier") else {
                throw GatewayError(
                    .badRequest, code: "missing-identifier",
                    message: "query parameter 'identifier' is required: https://fhir.nhs.uk/Id/nhs-number|<NHS number>")
            }
            let patient = try Self.nhsNumber(fromToken: token, parameter: "identifier")
            let (answer, exporter) = try await query(
                request, context, caller: caller, patient: patient, categories: nil, route: "/fhir/Patient")
            let resources = Self.patientResource(answer, patient, exporter).map { [$0] } ?? []
            return (.ok, Self.bundle(resources, page: page, request: request, exporter: exporter, answer: answer))
        }
        guard let reference = parameters.get("patient") else {
            throw GatewayError(
                .badRequest, code: "missing-patient", message: "query parameter 'patient' is required (an NHS number or Patient/<NHS number>)")
        }
        let patient = try Self.nhsNumber(fromReference: reference)
        let (answer, exporter) = try await query(
            request, context, caller: caller, patient: patient, categories: Set(type.categories), route: "/fhir/\(type.rawValue)")
        let resources = answer.view.entries.filter { FHIRResourceType.of($0) == type }.map {
            exporter.resource(for: $0, patient: patient)
        }
        return (.ok, Self.bundle(resources, page: page, request: request, exporter: exporter, answer: answer))
    }

    /// The shared pipeline, with this route's name in the audit and metrics.
    private func query(
        _ request: Request, _ context: GatewayRequestContext, caller: VerifiedCaller, patient: NHSNumber,
        categories: Set<EntryCategory>?, route: String
    ) async throws -> (RecordPipeline.Answer, FHIRExporter) {
        let started = ContinuousClock.now
        let answer = try await pipeline.record(
            RecordRequest(
                caller: caller, patient: patient, categories: categories,
                breakGlassReason: request.headers[.careGateBreakGlassReason],
                deadline: try RecordRoutes.requestedDeadline(from: request), requestID: UUID().uuidString.lowercased(),
                route: route))
        let duration = started.duration(to: .now)
        statistics.observe(answer, route: route, duration: duration, metrics: pipeline.metrics)
        return (answer, FHIRExporter(baseURL: FHIRResponder.baseURL(request)))
    }

    // MARK: - Building blocks

    /// The Patient, when any provider that answered knows them (by demographics or by holding entries).
    static func patientResource(_ answer: RecordPipeline.Answer, _ patient: NHSNumber, _ exporter: FHIRExporter) -> FHIRResource? {
        guard answer.demographics != nil || !answer.view.entries.isEmpty else { return nil }
        return exporter.patient(patient, demographics: answer.demographics, reportedBy: answer.demographicsReportedBy)
    }

    /// One page of a searchset, with `self` and (when more remain) `next` links, and an outcome entry for each
    /// provider that was asked and did not answer.
    static func bundle(
        _ resources: [FHIRResource], page: Page, request: Request, exporter: FHIRExporter, answer: RecordPipeline.Answer
    ) -> FHIRResource {
        let slice = Array(resources.dropFirst(page.offset).prefix(page.count))
        var links = [(relation: "self", url: FHIRResponder.link(request, offset: page.offset, count: page.count))]
        if page.count > 0, page.offset + page.count < resources.count {
            links.append((relation: "next", url: FHIRResponder.link(request, offset: page.offset + page.count, count: page.count)))
        }
        if page.offset > 0 {
            links.append((relation: "previous", url: FHIRResponder.link(request, offset: max(0, page.offset - page.count), count: page.count)))
        }
        let notices = answer.view.providers.filter { $0.status != "ok" && $0.status != "skipped" }.map {
            FHIRProviderNotice(provider: $0.id, status: $0.status, detail: $0.error, kind: $0.kind)
        }
        return exporter.searchset(slice, total: resources.count, links: links, notices: notices)
    }

    /// `_type=Observation,Condition` (repeatable); all types when absent.
    static func types(_ values: [String]) throws(GatewayError) -> [FHIRResourceType] {
        guard !values.isEmpty else { return FHIRResourceType.allCases }
        var types: [FHIRResourceType] = []
        for name in values.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let type = FHIRResourceType(rawValue: name) else {
                throw GatewayError(
                    .badRequest, code: "invalid-type",
                    message: "query parameter '_type': '\(name.prefix(64))' is not one of "
                        + FHIRResourceType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    /// `patient=9990000018`, `patient=Patient/9990000018`, or a full URL ending in `Patient/9990000018`.
    static func nhsNumber(fromReference text: String) throws(GatewayError) -> NHSNumber {
        var value = Substring(text)
        if let range = value.range(of: "Patient/", options: .backwards) { value = value[range.upperBound...] }
        if value.contains("|") { return try nhsNumber(fromToken: String(value), parameter: "patient") }
        do {
            return try NHSNumber(String(value))
        } catch {
            throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "query parameter 'patient': \(error)")
        }
    }

    /// A token `system|value` (or a bare value); the system, if given, must be the NHS number's.
    static func nhsNumber(fromToken text: String, parameter: String) throws(GatewayError) -> NHSNumber {
        let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let value = String(parts.last ?? "")
        if parts.count == 2, !parts[0].isEmpty, String(parts[0]) != FHIRExporter.nhsNumberSystem {
            throw GatewayError(
                .badRequest, code: "unsupported-identifier-system",
                message: "query parameter '\(parameter)': only \(FHIRExporter.nhsNumberSystem) identifiers are searchable")
        }
        do {
            return try NHSNumber(value)
        } catch {
            throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "query parameter '\(parameter)': \(error)")
        }
    }
}

/// Anything else under `/fhir` that no route matches: a FHIR client gets an OperationOutcome (404, not-found),
/// not a bare 404.
struct FHIRNotFoundMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: GatewayRequestContext,
        next: (Request, GatewayRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && request.uri.path.hasPrefix("/fhir") {
            return try FHIRResponder.respond(request) { _ in
                throw GatewayError(
                    .notFound, code: "unknown-route", message: "no FHIR interaction at this path (see /fhir/metadata)",
                    issueType: "not-found")
            }
        }
    }
}
