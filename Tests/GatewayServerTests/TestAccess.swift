import CareRecords
import Foundation
import GatewayServer
import HTTPTypes
import Logging
import Policy

/// A gateway's access control for tests: a fresh data directory with its own demo signing key, the repository's
/// `deploy/policy.yaml`, and real stores (SQLite in the data directory, or the PostgreSQL `storeURL`).
/// The application closes the stores when it stops; `remove()` deletes the data directory afterwards.
struct TestAccess: Sendable {
    let dataDirectory: String
    let key: DemoSigningKey
    let control: AccessControl
    let configuration: GatewayConfiguration

    static let policyFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/policy.yaml").path

    /// - Parameter dataDirectory: reuse a directory (and so its key) — two replicas share one identity provider.
    static func make(
        storeURL: String? = nil, dataDirectory: String? = nil, verifier: TokenVerifier? = nil,
        gateways: [TokenVerifier] = [], logger: Logger = Logger(label: "test.access")
    ) async throws -> TestAccess {
        let folder = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("caregate-test-\(UUID().uuidString)", isDirectory: true).path
        let key = try DemoSigningKey(dataDirectory: folder)
        let configuration = GatewayConfiguration(
            port: 0, dataDirectory: folder, policyFile: policyFile, storeURL: storeURL)
        let trusted: TokenVerifier
        if let verifier { trusted = verifier } else { trusted = try await key.verifier() }
        let control = try await AccessControl.open(
            configuration: configuration, verifier: trusted, gateways: gateways, logger: logger)
        return TestAccess(dataDirectory: folder, key: key, control: control, configuration: configuration)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// A signed token for a demo user.
    func token(
        role: String = "R8000", patient: NHSNumber, purpose: AccessPurpose = .directCare, admin: Bool = false,
        auditor: Bool = false
    ) async throws -> String {
        try await key.sign(AccessClaims.demo(role: role, patient: patient, purpose: purpose, admin: admin, auditor: auditor))
    }

    /// `Authorization: Bearer …` for a demo user, plus any extra headers.
    func headers(
        role: String = "R8000", patient: NHSNumber, purpose: AccessPurpose = .directCare, admin: Bool = false,
        auditor: Bool = false, breakGlassReason: String? = nil
    ) async throws -> HTTPFields {
        var fields: HTTPFields = [
            .authorization: "Bearer "
                + (try await token(role: role, patient: patient, purpose: purpose, admin: admin, auditor: auditor))
        ]
        if let breakGlassReason { fields[.careGateBreakGlassReason] = breakGlassReason }
        return fields
    }

    /// An operator's headers (scope `caregate.admin`).
    func operatorHeaders() async throws -> HTTPFields {
        try await headers(patient: try NHSNumber("9990000018"), admin: true)
    }
}

/// A FHIR OperationOutcome as the gateway sends it, for assertions.
struct OutcomeBody: Decodable {
    struct Issue: Decodable {
        struct Details: Decodable {
            struct Coding: Decodable {
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
    var resourceType: String
    var issue: [Issue]

    /// CareGate's own error code.
    var code: String? { issue.first?.details?.coding.first?.code }
    /// The FHIR issue type.
    var issueType: String? { issue.first?.code }
    var message: String? { issue.first?.diagnostics }

    init(_ data: Data) throws {
        self = try JSONDecoder().decode(OutcomeBody.self, from: data)
    }
}
