import CareRecords
import Foundation
import Policy
import Providers
import Testing

/// The commands an operator setting up federation runs: `caregate gateway-key` (the key it makes signs the hub's
/// on-behalf-of tokens, and the JWKS it prints is what the other gateway verifies them with) and `providers check`
/// of a gateway provider.
@Suite struct FederationCommandTests {
    func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try ServeProcessTests.run(arguments)
    }

    @Test func theKeySignsWhatThePrintedJWKSVerifies() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-gk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let keyFile = folder + "/federation/hub.pem"

        let first = try run(["gateway-key", keyFile, "--key-id", "hub-1"])
        #expect(first.status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!first.output.contains("PRIVATE"))
        #expect(!first.output.contains(#""d""#))
        // Run again: the same key, not a new one.
        #expect(try run(["gateway-key", keyFile, "--key-id", "hub-1"]).output == first.output)

        // The north gateway trusts the printed JWKS for the hub; the hub's provider file names the key.
        let verifier = try await TokenVerifier(
            jwks: first.output, issuer: "https://hub.caregate.test", audience: "caregate-north", actor: "london-hub")
        let definition = try ProviderDefinition(
            yaml: """
                id: north
                name: North London gateway
                kind: gateway
                ods: QMJ
                format: fhir-r4-xml
                url: https://north.caregate.test/fhir/Patient/{nhs}/$everything?_format=xml
                timeout_ms: 1500
                categories: [allergy]
                auth:
                  on_behalf_of:
                    issuer: https://hub.caregate.test
                    actor: london-hub
                    audience: caregate-north
                    key_file: \(keyFile)
                    key_id: hub-1
                """, file: folder + "/north.yaml")
        let signer = try #require(definition.auth?.onBehalfOf)
        let clinician = OnBehalfOf(
            userID: "user-42", name: "Dr A Example", organisation: "RX1", role: "R8000", purpose: "direct-care",
            launchPatient: try NHSNumber("9990000018"))
        let caller = try await verifier.verify(try await signer.token(for: clinician))
        #expect(caller.userID == "user-42")
        #expect(caller.viaGateway == "london-hub")
        #expect(caller.launchPatient == clinician.launchPatient)
    }

    /// `providers check` asks another gateway only as a named clinician, and takes no clinician for any other provider.
    @Test func theCheckOfAGatewayNeedsAClinician() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-gk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try run(["gateway-key", folder + "/hub.pem", "--key-id", "hub-1"]).status == 0)
        let gateway = """
            id: north
            name: North London gateway
            kind: gateway
            ods: QMJ
            format: fhir-r4-xml
            url: http://127.0.0.1:9/fhir/Patient/{nhs}/$everything?_format=xml
            timeout_ms: 1500
            categories: [allergy]
            auth:
              on_behalf_of: {issuer: hub, actor: london-hub, audience: north, key_file: hub.pem, key_id: hub-1}
            """
        try gateway.write(toFile: folder + "/north.yaml", atomically: true, encoding: .utf8)
        let without = try run(["providers", "check", folder + "/north.yaml", "--patient", "9990000018"])
        #expect(without.status != 0)
        #expect(without.errors.contains("give --as-user, --as-role and --as-org"), "\(without.errors)")

        let gp = gateway.replacingOccurrences(of: "kind: gateway", with: "kind: gp")
            .replacingOccurrences(of: "\nauth:\n  on_behalf_of: {issuer: hub, actor: london-hub, audience: north, key_file: hub.pem, key_id: hub-1}", with: "")
        try gp.write(toFile: folder + "/gp.yaml", atomically: true, encoding: .utf8)
        let misplaced = try run([
            "providers", "check", folder + "/gp.yaml", "--patient", "9990000018", "--as-user", "u", "--as-role", "R8000",
            "--as-org", "RX1",
        ])
        #expect(misplaced.status != 0)
        #expect(misplaced.errors.contains("only for a provider of kind gateway"), "\(misplaced.errors)")
    }

    @Test func aBadKeyIDIsRefused() throws {
        let result = try run(["gateway-key", "/tmp/never-made-\(UUID().uuidString).pem", "--key-id", "hub 1"])
        #expect(result.status != 0)
    }
}
