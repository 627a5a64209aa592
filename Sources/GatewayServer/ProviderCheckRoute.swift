import CareRecords
import Foundation
import Hummingbird
import Policy
import Providers

/// `POST /admin/providers/{id}/check` with `{"patients": ["999…", …]}`: what `caregate providers check` does from
/// the command line, for a provider already registered — each test patient's answer fetched, validated against the
/// format's schema, decoded and counted — so that a provider team registering through the admin API can see it
/// works before clinicians rely on it.
///
/// Only synthetic test patients (NHS numbers from 9000000000, a range never issued to people), at most
/// `maximumPatients`: the check is not a way round the records route's access decision and audit, and its report
/// holds schema messages that may quote the answer. A provider that is another gateway is asked on behalf of the
/// operator calling, launched for each test patient: that gateway decides the access and audits it as theirs.
struct ProviderCheckRoute: Sendable {
    let providers: ProviderDirectory
    let schemasFolder: String
    let authenticator: Authenticator

    static let maximumPatients = 10
    /// How long each patient's answer may take (as `caregate providers check` waits by default).
    static let timeout = Duration.seconds(10)

    func register(on admin: RouterGroup<GatewayRequestContext>) {
        admin.post(":id/check") { request, context in try await check(request, context: context) }
    }

    func check(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let id = try AdminProviderRoutes.providerID(context)
        guard let definition = providers.definitions.first(where: { $0.id == id }) else {
            throw GatewayError(.notFound, code: "unknown-provider", message: "no provider with id '\(id)'")
        }
        let caller = try await authenticator.caller(request)
        let patients = try Self.patients(Data(buffer: try await request.collectBody(upTo: 16 * 1024)))
        var clinician: (@Sendable (NHSNumber) -> OnBehalfOf)?
        if definition.kind == .gateway {
            clinician = { @Sendable patient in
                OnBehalfOf(
                    userID: caller.userID, name: caller.name, organisation: caller.organisation, role: caller.role,
                    purpose: AccessPurpose.directCare.rawValue, launchPatient: patient)
            }
        }
        let check: ConformanceCheck
        do {
            check = try ConformanceCheck(
                definition: definition, schemasFolder: schemasFolder, timeout: Self.timeout, clinician: clinician)
        } catch {
            throw GatewayError(
                .internalServerError, code: "schema-unavailable",
                message: "\(error) (the config's `schemas` names CareGate's XSD folder)")
        }
        let report = await check.run(patients: patients)
        return try AdminProviderRoutes.json(ProviderCheckReport(report))
    }

    struct Submission: Decodable {
        var patients: [String]
    }

    /// The body's test patients, or a 400 naming what is wrong.
    static func patients(_ body: Data) throws(GatewayError) -> [NHSNumber] {
        let submission = try AdminProviderRoutes.jsonBody(
            Submission.self, body, code: "invalid-check",
            shape: "{\"patients\": [test NHS numbers, 1 to \(maximumPatients)]}")
        guard (1...maximumPatients).contains(submission.patients.count) else {
            throw GatewayError(
                .badRequest, code: "invalid-check",
                message: "'patients' holds \(submission.patients.count); give 1 to \(maximumPatients) test NHS numbers")
        }
        var numbers: [NHSNumber] = []
        for (index, text) in submission.patients.enumerated() {
            let number: NHSNumber
            do {
                number = try NHSNumber(text)
            } catch {
                throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "'patients'[\(index)]: \(error)")
            }
            guard number.isSyntheticTestNumber else {
                throw GatewayError(
                    .badRequest, code: "not-a-test-patient",
                    message: "'patients'[\(index)] is not a synthetic test NHS number (9000000000–9999999999); "
                        + "real patients' records are reached through the records routes, decided and audited")
            }
            numbers.append(number)
        }
        return numbers
    }
}

/// A provider check's report, as the admin API shows it.
struct ProviderCheckReport: Codable, Sendable {
    struct Patient: Codable, Sendable {
        var nhsNumber: String
        var passed: Bool
        var httpStatus: Int?
        var latencyMs: Int
        var bytes: Int
        var entries: [String: Int]
        var unreadable: Int
        var paged: Bool
        var schemaErrors: [String]
        var problems: [String]
    }

    var provider: String
    /// The XSD the answers were validated against; none for a mapped provider without `schema:`.
    var schema: String?
    var passed: Bool
    var patients: [Patient]

    init(_ report: ConformanceReport) {
        provider = report.definition.id.rawValue
        schema = report.schemaName
        passed = report.passed
        patients = report.patients.map { check in
            Patient(
                nhsNumber: check.patient.digits, passed: check.passed, httpStatus: check.httpStatus,
                latencyMs: check.latencyMilliseconds, bytes: check.bytes,
                entries: Dictionary(uniqueKeysWithValues: check.entriesByCategory.map { ($0.key.rawValue, $0.value) }),
                unreadable: check.unreadable, paged: check.paged, schemaErrors: check.schemaErrors,
                problems: check.problems)
        }
    }
}
