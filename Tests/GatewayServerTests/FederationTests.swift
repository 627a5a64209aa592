import AsyncHTTPClient
import CareRecords
import Foundation
import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Policy
import Providers
import Testing

/// Two gateways on loopback, as two regions federate: a London hub that registers the north gateway as a provider
/// (`kind: gateway`), and the north gateway with the six simulated providers, trusting the hub's key for tokens the
/// hub signs on behalf of its clinicians.
struct Federation {
    let north: LiveGateway
    /// The hub's client, its access control (its own identity provider), and its gateway key.
    let hub: any TestClientProtocol
    let hubAccess: TestAccess
    let hubKey: DemoSigningKey

    static let hubIssuer = "https://hub.caregate.test"
    static let hubActor = "london-hub"

    static func run(
        northExtraProviders: @escaping @Sendable (DemoSigningKey) throws -> [ProviderDefinition] = { _ in [] },
        logger: Logger = Logger(label: "caregate.test.federation"),
        _ body: @Sendable (Federation) async throws -> Void
    ) async throws {
        let keyFolder = FileManager.default.temporaryDirectory
            .appendingPathComponent("caregate-hub-key-\(UUID().uuidString)", isDirectory: true).path
        defer { try? FileManager.default.removeItem(atPath: keyFolder) }
        // The hub's federation key: an EC P-256 PEM file, and its public half as the JWKS north holds.
        let hubKey = try DemoSigningKey(dataDirectory: keyFolder)
        let trustHub = try await TokenVerifier(
            jwks: hubKey.jwksJSON, issuer: hubIssuer, audience: DemoSigningKey.audience, actor: hubActor)
        try await LiveGateway.run(
            gateways: [trustHub], extraProviders: try northExtraProviders(hubKey), logger: logger
        ) { north in
            let port = try #require(north.client.port)
            // Pages of 30: the demo patient's record comes in three, as a larger one would in pages of 1000.
            let definition = try gatewayDefinition(
                id: "north", url: "http://127.0.0.1:\(port)/fhir/Patient/{nhs}/$everything?_format=xml&_count=30",
                key: hubKey)
            let providers = try ProviderDirectory(definitions: [definition], logger: logger) { definition in
                HTTPProviderAdapter(definition: definition, logger: logger)
            }
            let hubAccess = try await TestAccess.make(logger: logger)
            defer { hubAccess.remove() }
            let app = buildApplication(
                configuration: GatewayConfiguration(port: 0, deadlineMilliseconds: 3_000), providers: providers,
                access: hubAccess.control, logger: logger)
            try await app.test(.live) { hub in
                try await body(Federation(north: north, hub: hub, hubAccess: hubAccess, hubKey: hubKey))
            }
        }
    }

    /// A provider file for another gateway, signing with `key` as the hub.
    static func gatewayDefinition(id: String, url: String, key: DemoSigningKey) throws -> ProviderDefinition {
        let yaml = """
            id: \(id)
            name: \(id) gateway
            kind: gateway
            ods: QMJ
            format: fhir-r4-xml
            url: \(url)
            timeout_ms: 2500
            categories: [\(EntryCategory.allCases.map(\.rawValue).joined(separator: ", "))]
            auth:
              on_behalf_of:
                issuer: \(hubIssuer)
                actor: \(hubActor)
                audience: \(DemoSigningKey.audience)
                key_file: \(key.path)
                key_id: \(key.keyID)
            """
        return try ProviderDefinition(yaml: yaml, file: "\(id).yaml")
    }

    /// The hub's view of a patient's record, as a clinician (R8000) launched for them.
    func hubRecord(
        _ patient: NHSNumber, purpose: AccessPurpose = .directCare, launchedFor: NHSNumber? = nil,
        breakGlassReason: String? = nil
    ) async throws -> (status: HTTPResponse.Status, view: RecordView?, body: String) {
        let headers = try await hubAccess.headers(
            patient: launchedFor ?? patient, purpose: purpose, breakGlassReason: breakGlassReason)
        return try await hub.execute(uri: "/v1/patients/\(patient.digits)/record", method: .get, headers: headers) {
            response in
            let body = String(buffer: response.body)
            let view = response.status == .ok ? try JSONDecoder().decode(RecordView.self, from: Data(body.utf8)) : nil
            return (response.status, view, body)
        }
    }
}
