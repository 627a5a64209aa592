import CareGateTesting
import CareRecords
import Foundation
import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import NIOSSL
import Logging
import Policy
import Providers
import ServiceLifecycle
import Synchronization
import Testing

/// `auth.jwks_url`: the identity provider's keys are fetched at start and re-fetched, so a rotated key is
/// trusted without a restart — over real HTTP, from a small JWKS server on loopback.
@Suite struct JWKSRefreshTests {
    /// Serves whatever JWKS document it holds now at `/jwks`.
    final class JWKSServer: Sendable {
        let document: Mutex<String>
        init(_ document: String) { self.document = Mutex(document) }

        func run(_ body: @Sendable (String) async throws -> Void) async throws {
            let router = Router()
            router.get("/jwks") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: self.document.withLock { $0 })))
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                try await body("http://127.0.0.1:\(client.port!)/jwks")
            }
        }
    }

    /// `auth.jwks_ca_file`: an identity provider on a private PKI. Its JWKS, served over HTTPS with a certificate
    /// from a CA made for the test, is fetched when that CA is the one trusted, and refused with the system's roots.
    @Test func aJWKSURLOnAPrivatePKIIsTrustedThroughItsCAFile() async throws {
        let folder = Self.temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let key = try DemoSigningKey(dataDirectory: folder)
        let authority = try TestPKI.authority("CareGate test IdP CA")
        let server = try TestPKI.leaf("localhost", server: true, issuedBy: authority)
        let caFile = folder + "/idp-ca.pem"
        try authority.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)

        let router = Router()
        router.get("/jwks") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: key.jwksJSON)))
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try server.nioCertificate())], privateKey: .privateKey(try server.nioKey()))
        tls.minimumTLSVersion = .tlsv12
        let app = Application(
            router: router, server: try .tls(tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let url = "https://localhost:\(client.port!)/jwks"
            var auth = AuthConfiguration(
                keys: .url(url, refresh: .seconds(300)), issuer: DemoSigningKey.issuer, audience: DemoSigningKey.audience)
            await #expect(throws: AccessControlError.self) { try await AccessControl.verifier(for: auth, timeout: .seconds(5)) }
            auth.jwksCAFile = caFile
            let verifier = try await AccessControl.verifier(for: auth, timeout: .seconds(5))
            #expect(!verifier.keyIDs.isEmpty)
        }
    }

    @Test func aJWKSCAFileIsCheckedAtStartAndOnlyWithAURL() throws {
        let folder = Self.temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = folder + "/caregate.yaml"
        try "not a certificate".write(toFile: folder + "/junk.pem", atomically: true, encoding: .utf8)
        try "auth:\n  jwks_url: https://idp.example/jwks\n  jwks_ca_file: junk.pem\n  issuer: x\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let junk = try #require(throws: ConfigurationError.self) { try GatewayConfiguration(file: config) }
        #expect(junk.description.contains("jwks_ca_file"))
        #expect(junk.description.contains("holds no PEM certificate"))
        try "auth:\n  jwks_file: jwks.json\n  jwks_ca_file: junk.pem\n  issuer: x\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let withFile = try #require(throws: ConfigurationError.self) { try GatewayConfiguration(file: config) }
        #expect(withFile.description.contains("only with jwks_url"))
    }

    /// A gateway (one fake provider) trusting the keys `auth` names, its identity provider's and its gateways',
    /// fetched now and refreshed as `serve` would.
    static func withGateway(
        trusting auth: AuthConfiguration, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let access = try await TestAccess.make(
            verifier: try await AccessControl.verifier(for: auth),
            gateways: try await AccessControl.gatewayVerifiers(for: auth))
        defer { access.remove() }
        var configuration = access.configuration
        configuration.auth = auth
        let app = buildApplication(
            configuration: configuration,
            providers: try ProviderDirectory(adapters: [FakeAdapter("gp", .answer(after: .zero, entries: 1))]),
            access: access.control, logger: Logger(label: "test"))
        try await app.test(.router, body)
    }

    /// Trusted with `old` and not `new`; then the server swaps to `new`, which is trusted within 5 s, and `old` no
    /// longer is.
    static func expectRotation(
        served server: JWKSServer, from old: DemoSigningKey, to new: DemoSigningKey,
        status: (DemoSigningKey) async throws -> HTTPResponse.Status
    ) async throws {
        #expect(try await status(old) == .ok)
        #expect(try await status(new) == .unauthorized)
        server.document.withLock { $0 = new.jwksJSON }
        let deadline = ContinuousClock.now + .seconds(5)
        while try await status(new) != .ok, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await status(new) == .ok)
        #expect(try await status(old) == .unauthorized)
    }

    static func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("caregate-jwks-\(UUID().uuidString)").path
    }

    @Test func aKeyRotatedInAtTheIdentityProviderIsTrustedAfterTheNextRefresh() async throws {
        let (folderA, folderB) = (Self.temporaryFolder(), Self.temporaryFolder())
        defer { for folder in [folderA, folderB] { try? FileManager.default.removeItem(atPath: folder) } }
        let (old, new) = (try DemoSigningKey(dataDirectory: folderA), try DemoSigningKey(dataDirectory: folderB))
        let server = JWKSServer(old.jwksJSON)
        let patient = try NHSNumber("9990000018")

        try await server.run { url in
            let auth = AuthConfiguration(
                keys: .url(url, refresh: .milliseconds(100)), issuer: DemoSigningKey.issuer, audience: DemoSigningKey.audience)
            try await Self.withGateway(trusting: auth) { client in
                func status(_ key: DemoSigningKey) async throws -> HTTPResponse.Status {
                    let token = try await key.sign(AccessClaims.demo(role: "R8000", patient: patient))
                    return try await client.execute(
                        uri: "/v1/patients/\(patient.digits)/record", method: .get,
                        headers: [.authorization: "Bearer \(token)"]) { $0.status }
                }
                try await Self.expectRotation(served: server, from: old, to: new, status: status)

                // A broken document at the identity provider keeps the keys in force.
                server.document.withLock { $0 = "<html>maintenance</html>" }
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await status(new) == .ok)
            }
        }
    }

    /// `auth.gateways[].jwks_url`: a federated gateway's keys are refreshed the same way, so the hub can rotate its
    /// federation key without the gateways that trust it restarting.
    @Test func aFederatedGatewaysRotatedKeyIsTrustedAfterTheNextRefresh() async throws {
        let (folderA, folderB, folderC) = (Self.temporaryFolder(), Self.temporaryFolder(), Self.temporaryFolder())
        defer { for folder in [folderA, folderB, folderC] { try? FileManager.default.removeItem(atPath: folder) } }
        let (old, new) = (try DemoSigningKey(dataDirectory: folderA), try DemoSigningKey(dataDirectory: folderB))
        let identityProvider = try DemoSigningKey(dataDirectory: folderC)
        try identityProvider.jwksJSON.write(toFile: folderC + "/jwks.json", atomically: true, encoding: .utf8)
        let server = JWKSServer(old.jwksJSON)
        let patient = try NHSNumber("9990000018")

        try await server.run { url in
            let auth = AuthConfiguration(
                keys: .file(folderC + "/jwks.json"), issuer: DemoSigningKey.issuer, audience: DemoSigningKey.audience,
                gateways: [
                    FederatedGateway(
                        id: "london-hub", issuer: "https://hub.caregate.test", keys: .url(url, refresh: .milliseconds(100)))
                ])
            try await Self.withGateway(trusting: auth) { client in
                func status(_ key: DemoSigningKey) async throws -> HTTPResponse.Status {
                    var claims = AccessClaims.demo(role: "R8000", patient: patient, issuer: "https://hub.caregate.test")
                    claims.act = ActorClaim(sub: "london-hub")
                    let token = try await key.sign(claims)
                    return try await client.execute(
                        uri: "/v1/patients/\(patient.digits)/record", method: .get,
                        headers: [.authorization: "Bearer \(token)"]) { $0.status }
                }
                try await Self.expectRotation(served: server, from: old, to: new, status: status)
            }
        }
    }

    @Test func aGatewayWhoseJWKSURLCannotBeFetchedDoesNotStart() async throws {
        let auth = AuthConfiguration(keys: .url("http://127.0.0.1:1/jwks", refresh: .seconds(300)), issuer: "idp")
        await #expect(throws: AccessControlError.self) { try await AccessControl.verifier(for: auth, timeout: .milliseconds(500)) }
    }
}
