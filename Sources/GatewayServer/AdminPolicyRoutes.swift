import CareRecords
import Foundation
import Hummingbird
import Policy

/// The opt-out registry and the audit trail, for operators (a token with the `caregate.admin` scope):
///
/// - `GET /admin/opt-outs` — every opt-out; `GET|PUT|DELETE /admin/opt-outs/{nhs}` — one patient's.
///   A PUT takes effect for the next query on every replica sharing the store.
/// - `GET /admin/audit?patient={nhs}` — a FHIR R4 Bundle of AuditEvent resources: who looked at this person's
///   record, when, why, and what was decided.
struct AdminPolicyRoutes: Sendable {
    let access: AccessControl
    let authenticator: Authenticator

    func register(on router: Router<GatewayRequestContext>) {
        let operators = OperatorOnlyMiddleware(authenticator: authenticator)
        let optOuts = router.group("/admin/opt-outs").add(middleware: operators)
        optOuts.get { _, _ in
            let all = try await Self.store { () async throws(OptOutStoreError) in try await access.optOuts.list() }
            return try AdminProviderRoutes.json(OptOutList(optOuts: all.map(OptOutSummary.init)))
        }
        optOuts.get(":nhs") { _, context in
            let patient = try Self.patient(context)
            let all = try await Self.store { () async throws(OptOutStoreError) in try await access.optOuts.list() }
            guard let optOut = all.first(where: { $0.nhsNumber == patient }) else {
                throw GatewayError(.notFound, code: "not-opted-out", message: "this NHS number is not on the opt-out registry")
            }
            return try AdminProviderRoutes.json(OptOutSummary(optOut))
        }
        optOuts.put(":nhs") { request, context in
            let patient = try Self.patient(context)
            let caller = try await authenticator.caller(request)
            let added = try await Self.store { () async throws(OptOutStoreError) in
                try await access.optOuts.add(patient, source: "admin-api:\(caller.userID)")
            }
            return Response(status: added ? .created : .ok)
        }
        optOuts.delete(":nhs") { _, context in
            let patient = try Self.patient(context)
            let removed = try await Self.store { () async throws(OptOutStoreError) in
                try await access.optOuts.remove(patient)
            }
            guard removed else {
                throw GatewayError(.notFound, code: "not-opted-out", message: "this NHS number is not on the opt-out registry")
            }
            return Response(status: .noContent)
        }

        router.group("/admin/audit").add(middleware: operators).get { request, _ in
            guard let text = request.uri.queryParameters.get("patient") else {
                throw GatewayError(
                    .badRequest, code: "missing-patient", message: "query parameter 'patient' (an NHS number) is required")
            }
            let patient: NHSNumber
            do {
                patient = try NHSNumber(text)
            } catch {
                throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "query parameter 'patient': \(error)")
            }
            let records: [StoredAuditRecord]
            do {
                records = try await access.audit.records(patient: patient)
            } catch {
                throw GatewayError(
                    .serviceUnavailable, code: "audit-unavailable", message: "the audit trail cannot be read: \(error)")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = try encoder.encode(AuditEventBundle(records: records))
            return Response(
                status: .ok, headers: [.contentType: "application/fhir+json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    static func patient(_ context: GatewayRequestContext) throws(GatewayError) -> NHSNumber {
        do {
            return try NHSNumber((context.parameters.get("nhs") ?? "").removingPercentEncoding ?? "")
        } catch {
            throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "path parameter 'nhs': \(error)")
        }
    }

    /// Runs a registry call; a store that cannot be reached is a 503.
    static func store<T>(_ body: () async throws(OptOutStoreError) -> T) async throws(GatewayError) -> T {
        do {
            return try await body()
        } catch {
            throw GatewayError(
                .serviceUnavailable, code: "opt-out-store-unavailable", message: "the opt-out registry: \(error)")
        }
    }
}

struct OptOutSummary: Codable, Sendable {
    var nhsNumber: String
    var recordedAt: String
    var source: String

    init(_ optOut: OptOut) {
        nhsNumber = optOut.nhsNumber.digits
        recordedAt = optOut.recordedAt.ISO8601Format()
        source = optOut.source
    }
}

struct OptOutList: Codable, Sendable {
    var optOuts: [OptOutSummary]
}
