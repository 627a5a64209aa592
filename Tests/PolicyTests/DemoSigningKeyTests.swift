import CareRecords
import Foundation
import Testing

@testable import Policy

@Suite("Demo signing key")
struct DemoSigningKeyTests {
    let patient = try! NHSNumber("9990000034")

    func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-demo-key-\(UUID().uuidString)").path
        return path
    }

    @Test("is created with mode 0600 and reused on the next load")
    func createdAndReused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try DemoSigningKey(dataDirectory: directory)
        let attributes = try FileManager.default.attributesOfItem(atPath: first.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(first.path.hasSuffix("/demo-signing-key.pem"))
        let second = try DemoSigningKey(dataDirectory: directory)
        #expect(second.keyID == first.keyID)
        #expect(second.jwksJSON == first.jwksJSON)
        #expect(!first.jwksJSON.contains("\"d\""))
    }

    @Test("a key file others can read is refused")
    func permissiveFileRefused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = try DemoSigningKey(dataDirectory: directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key.path)
        #expect(throws: DemoSigningKeyError.self) { try DemoSigningKey(dataDirectory: directory) }
    }

    @Test("tokens it signs verify with its JWKS")
    func signsVerifiableTokens() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = try DemoSigningKey(dataDirectory: directory)
        let claims = AccessClaims.demo(role: "R8000", patient: patient, purpose: .emergency, admin: true)
        let token = try await key.sign(claims)
        let caller = try await key.verifier().verify(token)
        #expect(caller.role == "R8000")
        #expect(caller.launchPatient == patient)
        #expect(caller.purpose == .emergency)
        #expect(caller.isOperator)
    }

    @Test("a token signed by another data directory's key is refused")
    func otherKeyRefused() async throws {
        let one = temporaryDirectory()
        let two = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: one)
            try? FileManager.default.removeItem(atPath: two)
        }
        let trusted = try DemoSigningKey(dataDirectory: one)
        let stranger = try DemoSigningKey(dataDirectory: two)
        let token = try await stranger.sign(AccessClaims.demo(role: "R8000", patient: patient))
        await #expect(throws: AuthenticationError.self) { _ = try await trusted.verifier().verify(token) }

        // Even when the stranger claims the trusted key's id, the signature fails.
        let forged = try await DemoSigningKeyTests.sign(
            AccessClaims.demo(role: "R8000", patient: patient), with: stranger, as: trusted.keyID)
        let verifier = try await trusted.verifier()
        do {
            _ = try await verifier.verify(forged)
            Issue.record("a forged token verified")
        } catch {
            #expect(error.reason == .badSignature)
        }
    }

    /// Re-signs with `key` but a header naming `kid`: a forgery attempt against a known key id.
    static func sign(_ claims: AccessClaims, with key: DemoSigningKey, as kid: String) async throws -> String {
        let token = try await key.sign(claims)
        let parts = token.split(separator: ".")
        let header = #"{"alg":"ES256","kid":"\#(kid)","typ":"JWT"}"#
        return TokenBase64URL.encode(Data(header.utf8)) + "." + parts[1] + "." + parts[2]
    }
}
