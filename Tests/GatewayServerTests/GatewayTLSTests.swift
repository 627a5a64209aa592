import AsyncHTTPClient
import CareGateTesting
import Foundation
@testable import GatewayServer
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

    /// GETs `/healthz` over HTTPS trusting the test server CA (or `authority`), presenting `client` if given; the
    /// status, or nil when no HTTP exchange happened (the handshake failed).
    /// A probe expected to fail gives up after 1 s (AsyncHTTPClient retries a failed connection until its timeout).
    static func healthz(
        port: Int, credentials: Credentials, trusting authority: TestPKI.Issued? = nil, presenting client: TestPKI.Issued?,
        expectingRefusal: Bool = false
    ) async -> Int? {
        await TestPKI.status(
            "https://localhost:\(port)/healthz", trusting: authority ?? credentials.serverCA, presenting: client,
            timeout: expectingRefusal ? .seconds(1) : .seconds(5))
    }

    static func serve(
        _ configuration: GatewayConfiguration, logger: Logger = Logger(label: "test"),
        _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let access = try await TestAccess.make()
        defer { access.remove() }
        let app = buildApplication(
            configuration: configuration, providers: try ProviderDirectory(adapters: []), access: access.control,
            logger: logger)
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

    /// A renewed certificate (here from another CA, so the two are told apart) is presented from the next handshake
    /// after a reload, without a restart; `/metrics` gives its expiry.
    @Test func aRenewedCertificateIsPresentedAfterAReload() async throws {
        let credentials = try Credentials()
        defer { credentials.remove() }
        let configuration = try credentials.configuration("  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n")
        let tls = try #require(configuration.tls)
        let renewingCA = try TestPKI.authority("CareGate test renewing CA")
        let expiry = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 90 * 86_400).rounded(.down))
        let renewed = try TestPKI.leaf("localhost", server: true, issuedBy: renewingCA, notValidAfter: expiry)
        try await Self.serve(configuration) { port in
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: nil) == 200)
            #expect(
                await Self.healthz(
                    port: port, credentials: credentials, trusting: renewingCA, presenting: nil, expectingRefusal: true)
                    == nil)

            try renewed.certificatePEM.write(toFile: credentials.folder + "/gateway.pem", atomically: true, encoding: .utf8)
            try renewed.keyPEM.write(toFile: credentials.folder + "/gateway-key.pem", atomically: true, encoding: .utf8)
            #expect(try tls.reload() == expiry)
            #expect(tls.certificateExpiry == expiry)

            #expect(await Self.healthz(port: port, credentials: credentials, trusting: renewingCA, presenting: nil) == 200)
            #expect(
                await Self.healthz(port: port, credentials: credentials, presenting: nil, expectingRefusal: true) == nil)
            let metrics = try #require(
                await TestPKI.get("https://localhost:\(port)/metrics", trusting: renewingCA).map { String(decoding: $0.body, as: UTF8.self) })
            #expect(metrics.contains("caregate_tls_certificate_expiry_timestamp_seconds \(Int(expiry.timeIntervalSince1970))"), "\(metrics)")
        }
    }

    /// The portals' CA rotated: after a reload the new CA's clients get in and the retired CA's no longer do, without
    /// a restart. A CA file that cannot be read on the next reload changes nothing.
    @Test func aNewClientCAIsRequiredAfterAReload() async throws {
        let credentials = try Credentials()
        defer { credentials.remove() }
        let configuration = try credentials.configuration(
            "  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n  client_ca_file: portal-ca.pem\n")
        let tls = try #require(configuration.tls)
        let newCA = try TestPKI.authority("CareGate test portal CA 2027")
        let newClient = try TestPKI.leaf("portal.example", server: false, issuedBy: newCA)
        try await Self.serve(configuration) { port in
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: credentials.client) == 200)
            #expect(
                await Self.healthz(port: port, credentials: credentials, presenting: newClient, expectingRefusal: true) == nil)

            try newCA.certificatePEM.write(toFile: credentials.folder + "/portal-ca.pem", atomically: true, encoding: .utf8)
            try tls.reload()
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: newClient) == 200)
            #expect(
                await Self.healthz(port: port, credentials: credentials, presenting: credentials.client, expectingRefusal: true)
                    == nil)

            try "not a certificate".write(toFile: credentials.folder + "/portal-ca.pem", atomically: true, encoding: .utf8)
            let error = try #require(throws: ConfigurationError.self) { try tls.reload() }
            #expect(error.description.contains("key 'tls.client_ca_file'"), "\(error)")
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: newClient) == 200)
        }
    }

    /// A renewal that went wrong — a key that is not the new certificate's, or a certificate file half written —
    /// changes nothing: the error names the file, the SIGHUP handler logs it, and the certificate in use is still
    /// presented.
    @Test func aBadRenewalLeavesTheCertificateInUse() async throws {
        let credentials = try Credentials()
        defer { credentials.remove() }
        let configuration = try credentials.configuration("  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n")
        let tls = try #require(configuration.tls)
        let before = tls.certificateExpiry
        let other = try TestPKI.leaf(
            "localhost", server: true, issuedBy: try TestPKI.authority("another CA"),
            notValidAfter: Date().addingTimeInterval(30 * 86_400))
        let log = CapturedLog()
        let hangup = HangupReloadService(providersFolder: nil, tls: tls, logger: Logger(label: "test") { _ in log })
        try await Self.serve(configuration) { port in
            // A new certificate beside the old key.
            try other.certificatePEM.write(toFile: credentials.folder + "/gateway.pem", atomically: true, encoding: .utf8)
            let mismatched = try #require(throws: ConfigurationError.self) { try tls.reload() }
            #expect(mismatched.description.contains("key 'tls.key_file'"), "\(mismatched)")
            #expect(mismatched.description.hasPrefix(credentials.folder + "/caregate.yaml"), "\(mismatched)")
            #expect(mismatched.description.contains("gateway-key.pem"), "\(mismatched)")
            // A file cut short.
            try String(try other.certificatePEM.prefix(60)).write(
                toFile: credentials.folder + "/gateway.pem", atomically: true, encoding: .utf8)
            let cut = try #require(throws: ConfigurationError.self) { try tls.reload() }
            #expect(cut.description.contains("key 'tls.certificate_file'"), "\(cut)")
            #expect(!cut.description.contains("PRIVATE KEY") && !mismatched.description.contains("PRIVATE KEY"))
            await hangup.reload()
            let logged = log.entries.filter { $0.level == .error }.map(\.message)
            #expect(logged.count == 1 && logged[0].contains("TLS certificate not reloaded"), "\(logged)")
            #expect(logged.first?.contains("gateway.pem") == true, "\(logged)")

            #expect(tls.certificateExpiry == before)
            #expect(await Self.healthz(port: port, credentials: credentials, presenting: nil) == 200)
        }
    }
}
