import Foundation
import GatewayServer
import Providers
import Testing

@Suite struct GatewayConfigurationTests {
    func withConfigFile(_ yaml: String, _ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-config-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("caregate.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        try body(path)
    }

    @Test func readsEveryKeyAndResolvesPathsAgainstTheFile() throws {
        try withConfigFile(
            """
            host: 0.0.0.0
            port: 9000
            providers: conf/providers
            deadline_ms: 1500
            data_dir: /var/lib/caregate
            policy: policy.yaml
            auth:
              jwks_file: keys/jwks.json
              issuer: https://idp.example.nhs.uk
              audience: caregate-london
            store:
              url: postgres://caregate:secret@db.internal:5432/caregate
            audit_disclosure: after-answer
            executor: event-loops
            provider_credentials: secrets/providers
            schemas: xsd
            """
        ) { path in
            let configuration = try GatewayConfiguration(file: path)
            let folder = (path as NSString).deletingLastPathComponent
            #expect(configuration.host == "0.0.0.0")
            #expect(configuration.port == 9000)
            #expect(configuration.providersDirectory == folder + "/conf/providers")
            #expect(configuration.deadlineMilliseconds == 1500)
            #expect(configuration.dataDirectory == "/var/lib/caregate")
            #expect(configuration.policyFile == folder + "/policy.yaml")
            #expect(
                configuration.auth
                    == AuthConfiguration(
                        keys: .file(folder + "/keys/jwks.json"), issuer: "https://idp.example.nhs.uk",
                        audience: "caregate-london"))
            #expect(configuration.storeURL == "postgres://caregate:secret@db.internal:5432/caregate")
            #expect(configuration.auditDisclosure == .afterAnswer)
            #expect(configuration.executor == .eventLoops)
            #expect(configuration.providerCredentialsDirectory == folder + "/secrets/providers")
            #expect(configuration.schemasDirectory == folder + "/xsd")
        }
        // Without the key, the schemas folder is beside the config file, as the container image has it.
        try withConfigFile("port: 9000\n") { path in
            let folder = (path as NSString).deletingLastPathComponent
            let configuration = try GatewayConfiguration(file: path)
            #expect(configuration.schemasDirectory == folder + "/schemas")
        }
    }

    @Test func aJWKSURLIsRefreshedEveryIntervalAndTheAudienceDefaults() throws {
        try withConfigFile("auth:\n  jwks_url: https://idp.example.nhs.uk/jwks\n  jwks_refresh_s: 60\n  issuer: idp\n") { path in
            let auth = try #require(try GatewayConfiguration(file: path).auth)
            #expect(auth.keys == .url("https://idp.example.nhs.uk/jwks", refresh: .seconds(60)))
            #expect(auth.audience == "caregate")
        }
    }

    @Test(arguments: [
        ("auth:\n  issuer: idp\n", "key 'auth.jwks_file': missing: give jwks_file or jwks_url"),
        ("auth:\n  jwks_file: a.json\n  jwks_url: https://x.example/jwks\n  issuer: idp\n",
         "key 'auth.jwks_url': give jwks_file or jwks_url, not both"),
        ("auth:\n  jwks_url: ftp://x.example/jwks\n  issuer: idp\n", "key 'auth.jwks_url': expected an https:// URL"),
        ("auth:\n  jwks_file: a.json\n", "key 'auth.issuer': missing (required)"),
        ("auth:\n  jwks_file: a.json\n  isuer: idp\n", "key 'auth.isuer': unknown key"),
        ("store:\n  url: /var/lib/caregate.sqlite\n", "key 'store.url': expected a postgres:// URL"),
        ("auth:\n  jwks_file: a.json\n  issuer: idp\n  gateways:\n    - id: hub\n      issuer: idp\n      jwks_file: h.json\n",
         "key 'auth.gateways': gateways[0]: issuer idp is already trusted"),
        ("auth:\n  jwks_file: a.json\n  issuer: idp\n  gateways:\n    - id: hub\n      jwks_file: h.json\n",
         "key 'auth.gateways[0].issuer': missing (required)"),
        ("auth:\n  jwks_file: a.json\n  issuer: idp\n  gateways:\n    - id: hub\n      issuer: h\n",
         "key 'auth.gateways[0].jwks_file': missing: give jwks_file or jwks_url"),
        ("auth:\n  jwks_file: a.json\n  issuer: idp\n  gateways:\n    - id: hub\n      issuer: h\n      jwks_file: h.json\n"
            + "    - id: hub\n      issuer: h2\n      jwks_file: h.json\n", "key 'auth.gateways': gateways[1]: id hub is given twice"),
        ("auth:\n  jwks_file: a.json\n  issuer: idp\n  gateways: hub\n", "key 'auth.gateways': expected a list"),
    ])
    func aBadAuthOrStoreSectionIsRefusedNamingTheKey(_ yaml: String, _ problem: String) throws {
        try withConfigFile(yaml) { path in
            do {
                _ = try GatewayConfiguration(file: path)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect("\(error)".contains(problem), "\(error)")
            }
        }
    }

    @Test func gatewaysTrustedForFederationAreReadWithTheirKeysFiles() throws {
        let yaml = """
            auth:
              jwks_file: jwks.json
              issuer: https://idp.example.nhs.uk
              audience: caregate-north
              gateways:
                - id: london-hub
                  issuer: https://hub.caregate.example
                  jwks_file: federation/hub-jwks.json
                - id: south-hub
                  issuer: https://south.caregate.example
                  jwks_url: https://south.caregate.example/federation/jwks.json
                  jwks_refresh_s: 60
            """
        try withConfigFile(yaml) { path in
            let auth = try #require(try GatewayConfiguration(file: path).auth)
            let folder = (path as NSString).deletingLastPathComponent
            #expect(auth.gateways == [
                FederatedGateway(
                    id: "london-hub", issuer: "https://hub.caregate.example",
                    keys: .file(folder + "/federation/hub-jwks.json")),
                FederatedGateway(
                    id: "south-hub", issuer: "https://south.caregate.example",
                    keys: .url("https://south.caregate.example/federation/jwks.json", refresh: .seconds(60))),
            ])
        }
    }

    @Test func missingKeysTakeTheDocumentedDefaults() throws {
        try withConfigFile("port: 8081\n") { path in
            let configuration = try GatewayConfiguration(file: path)
            #expect(configuration.port == 8081)
            #expect(configuration.host == "127.0.0.1")
            #expect(configuration.deadlineMilliseconds == 2000)
            #expect(configuration.auditDisclosure == .withAnswer)
            #expect(configuration.executor == .swift)
        }
    }

    @Test func aBadValueOrAnUnknownKeyIsRefusedNamingIt() throws {
        try withConfigFile("port: 8080\ndeadline_ms: 0\n") { path in
            #expect(refusal(path) == "\(path):2: key 'deadline_ms': must be between 1 and 60000, got 0")
        }
        try withConfigFile("audit_disclosure: later\n") { path in
            #expect(refusal(path)?.contains("key 'audit_disclosure': expected one of: with-answer, after-answer") == true)
        }
        try withConfigFile("executor: threads\n") { path in
            #expect(refusal(path)?.contains("key 'executor': expected one of: swift, event-loops") == true)
        }
        try withConfigFile("prot: 8080\n") { path in
            #expect(refusal(path)?.contains("key 'prot': unknown key") == true)
        }
    }

    /// Why the config file at `path` is refused; nil when it is accepted.
    private func refusal(_ path: String) -> String? {
        do {
            _ = try GatewayConfiguration(file: path)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
