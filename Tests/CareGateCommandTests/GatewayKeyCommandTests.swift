import CareRecords
import Foundation
import Policy
import Providers
import Testing

/// `caregate gateway-key`, as an operator setting up federation runs it: the key it makes signs the hub's
/// on-behalf-of tokens, and the JWKS it prints is what the other gateway verifies them with.
@Suite struct GatewayKeyCommandTests {
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeProcessTests.binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
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

    @Test func aBadKeyIDIsRefused() throws {
        let result = try run(["gateway-key", "/tmp/never-made-\(UUID().uuidString).pem", "--key-id", "hub 1"])
        #expect(result.status != 0)
    }
}
