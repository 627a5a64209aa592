import AsyncHTTPClient
import CareGateTesting
import Foundation
import GatewayServer
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOSSL
import Providers
import Testing

/// `tls` in the config: the gateway serves HTTPS itself and, with `client_ca_file`, lets in only clients presenting a
/// certificate from those CAs — before any bearer token is read.
@Suite struct GatewayTLSTests {
    /// A folder with a CA, the gateway's certificate for `localhost` from it, and a client CA with one client's
    /// certificate.
    struct Credentials: Sendable {
        let folder: String
        let serverCA: TestPKI.Issued
        let client: TestPKI.Issued

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-tls-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            serverCA = try TestPKI.authority("CareGate test server CA")
            let server = try TestPKI.leaf("localhost", server: true, issuedBy: serverCA)
            let clientCA = try TestPKI.authority("CareGate test portal CA")
            client = try TestPKI.leaf("portal.example", server: false, issuedBy: clientCA)
            try server.certificatePEM.write(toFile: folder + "/gateway.pem", atomically: true, encoding: .utf8)
            try server.keyPEM.write(toFile: folder + "/gateway-key.pem", atomically: true, encoding: .utf8)
            try clientCA.certificatePEM.write(toFile: folder + "/portal-ca.pem", atomically: true, encoding: .utf8)
            try TestPKI.authority("unrelated").keyPEM.write(toFile: folder + "/other-key.pem", atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }

        func configuration(_ tls: String) throws -> GatewayConfiguration {
            let path = folder + "/caregate.yaml"
            try "port: 0\ntls:\n\(tls)".write(toFile: path, atomically: true, encoding: .utf8)
            return try GatewayConfiguration(file: path)
        }
    }

    /// GETs `/healthz` over HTTPS trusting the test server CA, presenting `client` if given; the status, or nil when
    /// no HTTP exchange happened (the handshake failed).
    static func healthz(port: Int, credentials: Credentials, presenting client: TestPKI.Issued?) async -> Int? {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try! credentials.serverCA.nioCertificate()])
        if let client {
            tls.certificateChain = [.certificate(try! client.nioCertificate())]
            tls.privateKey = .privateKey(try! client.nioKey())
        }
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() }
        do {
            let response = try await http.execute(
                HTTPClientRequest(url: "https://localhost:\(port)/healthz"), timeout: .seconds(5))
            return Int(response.status.code)
        } catch {
            return nil
        }
    }

    static func serve(
        _ configuration: GatewayConfiguration, _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let access = try await TestAccess.make()
        defer { access.remove() }
        let app = buildApplication(
            configuration: configuration, providers: try ProviderDirectory(adapters: []), access: access.control,
            logger: Logger(label: "test"))
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    @Test func theGatewayServesHTTPS() async throws {
        let credentials = try Credentials()
        defer { credentials.remove() }
        let configuration = try credentials.configuration("  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n")
        #expect(configuration.tls?.requiresClientCertificate == false)
        try await Self.serve(configuration) { port in
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: nil) == 200)
            // Plain HTTP to the same port gets no answer.
            let plain = try? await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://localhost:\(port)/healthz"), timeout: .seconds(5))
            #expect(plain == nil)
        }
    }

    @Test func withAClientCAOnlyItsClientsGetIn() async throws {
        let credentials = try Credentials()
        defer { credentials.remove() }
        let configuration = try credentials.configuration(
            "  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n  client_ca_file: portal-ca.pem\n")
        #expect(configuration.tls?.requiresClientCertificate == true)
        try await Self.serve(configuration) { port in
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: credentials.client) == 200)
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: nil) == nil)
            // A certificate from another CA is refused too.
            let stranger = try TestPKI.leaf("stranger.example", server: false, issuedBy: try TestPKI.authority("other CA"))
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: stranger) == nil)
        }
    }

    @Test(arguments: [
        ("  certificate_file: gateway.pem\n", "key 'tls.key_file': missing (required)"),
        ("  certificate_file: nowhere.pem\n  key_file: gateway-key.pem\n",
         "key 'tls.certificate_file': "),
        ("  certificate_file: gateway.pem\n  key_file: other-key.pem\n",
         "key 'tls.key_file': "),
        ("  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n  client_ca_file: gateway-key.pem\n",
         "key 'tls.client_ca_file': "),
        ("  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n  ciphers: all\n", "key 'tls.ciphers': unknown key"),
    ])
    func aWrongTLSFileStopsTheStartNamingIt(_ tls: String, _ expected: String) throws {
        let credentials = try Credentials()
        defer { credentials.remove() }
        let error = try #require(throws: ConfigurationError.self) { try credentials.configuration(tls) }
        #expect(error.description.contains(expected), "\(error)")
        #expect(!error.description.contains("PRIVATE KEY"))
    }
}
