import CareGateTesting
import CareRecords
import Foundation
import Logging
import NIOSSL
import ProviderSimulator
@testable import Providers
import Testing

/// Providers on a private PKI, requiring mutual TLS and a bearer token, as NHS integration engines do: the
/// gateway reaches them with what the provider file names (`tls:`, `auth:`), and says plainly why when it cannot.
@Suite struct ProviderTLSTests {
    let folder: URL
    let providerCA: TestPKI.Issued
    let gatewayCA: TestPKI.Issued
    let server: TestPKI.Issued
    let client: TestPKI.Issued
    let stranger: TestPKI.Issued
    static let token = "c2ltdWxhdGVkLXRva2Vu.for-tests_only~1+2/3=="
    static let patient = try! NHSNumber("9993529893")

    init() throws {
        folder = FileManager.default.temporaryDirectory.appending(path: "caregate-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        providerCA = try TestPKI.authority("Provider Test CA")
        gatewayCA = try TestPKI.authority("Gateway Client Test CA")
        server = try TestPKI.leaf("localhost", server: true, issuedBy: providerCA)
        client = try TestPKI.leaf("caregate-test", server: false, issuedBy: gatewayCA)
        stranger = try TestPKI.authority("Some Other CA")
        try write("provider-ca.pem", providerCA.certificatePEM)
        try write("stranger-ca.pem", stranger.certificatePEM)
        try write("gateway.pem", client.certificatePEM)
        try write("gateway-key.pem", client.keyPEM)
        try write("server-key.pem", server.keyPEM)
        try write("token", Self.token + "\n")
        try write("wrong-token", "not-the-token\n")
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: folder.appending(path: name))
    }

    /// The simulated GP over HTTPS, asking for a client certificate from the gateway's CA, and optionally a token.
    func simulator(requiringToken: Bool = false) throws -> ProviderSimulator {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try server.nioCertificate())], privateKey: .privateKey(try server.nioKey()))
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([try gatewayCA.nioCertificate()])
        return ProviderSimulator(
            population: .generate(count: 2), providers: [.gpPractice], tls: try NIOSSLContext(configuration: configuration),
            bearerToken: requiringToken ? Self.token : nil)
    }

    /// A provider file for the simulated GP at `url`, with `extra` (its `tls:` and `auth:`) after the usual keys.
    func definition(url: String, _ extra: String) throws -> ProviderDefinition {
        try ProviderDefinition(
            yaml: """
                id: gp
                name: Test GP
                kind: gp
                ods: Y02001
                format: fhir-r4-xml
                url: "\(url)"
                timeout_ms: 5000
                categories: [medication, allergy]
                \(extra)
                """, file: "gp.yaml", relativeTo: folder.path(percentEncoded: false))
    }

    func definition(port: Int, _ extra: String) throws -> ProviderDefinition {
        try definition(url: "https://localhost:\(port)/fhir/Patient/{nhs}/$everything", extra)
    }

    /// Fetches the demo patient's record through an adapter for `extra`'s settings, against a running simulator.
    func fetch(_ extra: String, requiringToken: Bool = false) async throws -> Result<DecodedRecord, ProviderFailure> {
        let simulator = try simulator(requiringToken: requiringToken)
        let endpoints = try await simulator.start()
        let adapter = HTTPProviderAdapter(
            definition: try definition(port: endpoints[0].port, extra), logger: Logger(label: "test"))
        let result: Result<DecodedRecord, ProviderFailure>
        do {
            result = .success(try await adapter.fetch(Self.patient, deadline: .now + .seconds(5)))
        } catch {
            result = .failure(error)
        }
        try await adapter.shutdown()
        try await simulator.shutdown()
        return result
    }

    static let mutualTLS = """
        tls:
          ca_file: provider-ca.pem
          certificate_file: gateway.pem
          key_file: gateway-key.pem
        """

    @Test func mutualTLSWithTheProvidersOwnCAReadsTheRecord() async throws {
        let record = try await fetch(Self.mutualTLS).get()
        #expect(record.entries.count > 0)
        #expect(record.patient?.nhsNumber == Self.patient)
    }

    @Test func aBearerTokenFromItsFileIsSentAndAWrongOneIsRefused() async throws {
        let record = try await fetch(Self.mutualTLS + "\nauth:\n  bearer_token_file: token", requiringToken: true).get()
        #expect(record.entries.count > 0)
        let refused = await #expect(throws: ProviderFailure.self) {
            try await fetch(Self.mutualTLS + "\nauth:\n  bearer_token_file: wrong-token", requiringToken: true).get()
        }
        #expect(refused?.reason.contains("401") == true)
        // Without a token the provider refuses too.
        await #expect(throws: ProviderFailure.self) { try await fetch(Self.mutualTLS, requiringToken: true).get() }
    }

    @Test func withoutAClientCertificateTheHandshakeFailsWithAReason() async throws {
        let failure = await #expect(throws: ProviderFailure.self) {
            try await fetch("tls:\n  ca_file: provider-ca.pem").get()
        }
        #expect(failure?.kind == .error)
        #expect(failure?.reason == "TLS: the provider requires a client certificate (TLSV1_ALERT_CERTIFICATE_REQUIRED)")
    }

    /// Said at once, not after the provider's whole timeout of retried handshakes.
    @Test func aProviderCertificateFromAnotherCAIsNotTrusted() async throws {
        let started = ContinuousClock.now
        let pinned = Self.mutualTLS.replacingOccurrences(of: "provider-ca.pem", with: "stranger-ca.pem")
        let failure = await #expect(throws: ProviderFailure.self) { try await fetch(pinned).get() }
        #expect(failure?.reason == "TLS: the provider's certificate is not trusted (CERTIFICATE_VERIFY_FAILED)")
        // The system's roots do not vouch for a private CA either.
        let system = await #expect(throws: ProviderFailure.self) { try await fetch("").get() }
        #expect(system?.reason == "TLS: the provider's certificate is not trusted (CERTIFICATE_VERIFY_FAILED)")
        // Both well inside one provider timeout (5 s each).
        #expect(started.duration(to: .now) < .seconds(5))
    }

    // MARK: - Checked when the provider file is loaded

    func loadError(_ extra: String, url: String = "https://localhost:9443/fhir/Patient/{nhs}") -> ConfigurationError? {
        do {
            _ = try definition(url: url, extra)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func filesThatCannotServeAreRefusedAtLoadNamingKeyAndFile() throws {
        let missing = loadError("tls:\n  ca_file: nowhere.pem")
        #expect(missing?.key == "tls.ca_file")
        #expect(missing?.problem.contains("nowhere.pem") == true)
        #expect(loadError("tls:\n  ca_file: token")?.problem.hasSuffix("holds no PEM certificate") == true)
        #expect(loadError("tls:\n  certificate_file: gateway.pem")?.key == "tls.key_file")
        #expect(loadError("tls:\n  key_file: gateway-key.pem")?.key == "tls.certificate_file")
        let notAKey = loadError("tls:\n  certificate_file: gateway.pem\n  key_file: gateway.pem")
        #expect(notAKey?.key == "tls.key_file")
        #expect(notAKey?.problem.contains("holds no PEM private key") == true)
        // The server's key with the gateway's certificate: every handshake would fail, so the load does.
        let otherKey = loadError("tls:\n  certificate_file: gateway.pem\n  key_file: server-key.pem")
        #expect(otherKey?.problem.contains("is not the private key of the certificate") == true)
        #expect(loadError("tls:\n  cafile: provider-ca.pem")?.key == "tls.cafile")
    }

    @Test func tlsAndTokensAreRefusedWhereTheyWouldNotProtectAnything() throws {
        let plain = loadError("tls:\n  ca_file: provider-ca.pem", url: "http://provider.example/p/{nhs}")
        #expect(plain?.key == "tls")
        // A token in clear over a network is anyone's; to a loopback address (a local sidecar) it stays put.
        let clear = loadError("auth:\n  bearer_token_file: token", url: "http://provider.example/p/{nhs}")
        #expect(clear?.key == "auth")
        #expect(loadError("auth:\n  bearer_token_file: token", url: "http://127.0.0.1:9102/p/{nhs}") == nil)
        #expect(loadError("auth:\n  bearer_token_file: token", url: "http://localhost:9102/p/{nhs}") == nil)
        // A name that only begins like a loopback address is a host on the network.
        let lookalike = loadError("auth:\n  bearer_token_file: token", url: "http://127.0.0.1.example.org/p/{nhs}")
        #expect(lookalike?.key == "auth")
        #expect(ProviderDefinition.isLoopback("127.12.0.9") && !ProviderDefinition.isLoopback("127.0.0.256"))
    }

    @Test func aTokenFileHoldingAnythingButOneTokenIsRefusedWithoutQuotingIt() throws {
        try write("two-lines", "first-line\nsecond-line\n")
        try write("key-as-token", client.keyPEM)
        for name in ["two-lines", "key-as-token"] {
            let error = loadError("auth:\n  bearer_token_file: \(name)")
            #expect(error?.key == "auth.bearer_token_file")
            #expect(error?.description.contains("first-line") == false)
            #expect(error?.description.contains("PRIVATE KEY") == false)
        }
        #expect(ProviderAuth.isBearerToken(Self.token))
        #expect(!ProviderAuth.isBearerToken("a b"))
        #expect(!ProviderAuth.isBearerToken("=="))
    }

    @Test func aProviderTeamSeesWhatIsTrustedAndPresentedAndWhenItExpires() throws {
        let definition = try definition(port: 9443, Self.mutualTLS + "\nauth:\n  bearer_token_file: token")
        let expiry = try #require(definition.tls?.clientCertificateExpiry)
        #expect(expiry == client.notValidAfter)
        let lines = definition.credentialSummary(now: expiry.addingTimeInterval(-30 * 86_400))
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("tls: trusts the CAs in ") && lines[0].hasSuffix("provider-ca.pem only"))
        #expect(lines[1].contains("gateway.pem, valid until ") && lines[1].hasSuffix("(30 days)"))
        #expect(lines[2].hasSuffix("/token"))
        #expect(definition.credentialSummary(now: expiry.addingTimeInterval(-3 * 86_400))[1].hasSuffix("renew it now"))
        #expect(definition.credentialSummary(now: expiry.addingTimeInterval(60))[1].contains("EXPIRED"))
        #expect(!lines.joined().contains(Self.token))
        #expect(try self.definition(port: 9443, "").credentialSummary() == ["tls: trusts the system's CAs"])
    }

    @Test func aDefinitionNeverPrintsItsSecrets() throws {
        let definition = try definition(port: 9443, Self.mutualTLS + "\nauth:\n  bearer_token_file: token")
        #expect(definition.tls?.presentsClientCertificate == true)
        for text in [String(describing: definition), String(reflecting: definition), "\(definition.auth!)"] {
            #expect(!text.contains(Self.token))
            #expect(!text.contains("PRIVATE KEY"))
            #expect(!text.contains(client.keyPEM.split(separator: "\n")[1]))
        }
    }
}
