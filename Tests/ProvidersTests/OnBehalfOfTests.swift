import CareRecords
import Foundation
import JWTKit
import Testing

@testable import Providers

/// A provider that is another CareGate gateway: its file, and the token signed for each query's clinician.
@Suite struct OnBehalfOfTests {
    /// A folder with an EC P-256 key (`hub.pem`) and a gateway provider file naming it.
    struct Folder {
        let path: String
        let key = ES256PrivateKey()

        init() throws {
            path = FileManager.default.temporaryDirectory
                .appendingPathComponent("caregate-obo-\(UUID().uuidString)", isDirectory: true).path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try key.pemRepresentation.write(toFile: path + "/hub.pem", atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: path) }

        static let gateway = """
            id: north
            name: North London gateway
            kind: gateway
            ods: QMJ
            format: fhir-r4-xml
            url: https://north.caregate.test/fhir/Patient/{nhs}/$everything?_format=xml
            timeout_ms: 1500
            categories: [medication, allergy]
            auth:
              on_behalf_of:
                issuer: https://hub.caregate.test
                actor: london-hub
                audience: caregate-north
                key_file: hub.pem
                key_id: hub-1
            """

        func definition(_ yaml: String = gateway) throws -> ProviderDefinition {
            try ProviderDefinition(yaml: yaml, file: path + "/north.yaml")
        }

        func refusal(_ yaml: String) -> String? {
            do {
                _ = try definition(yaml)
                return nil
            } catch {
                return "\(error)"
            }
        }
    }

    static let clinician = OnBehalfOf(
        userID: "user-42", name: "Dr A Example", organisation: "RX1", role: "R8000", purpose: "emergency",
        launchPatient: try! NHSNumber("9990000018"), breakGlassReason: "collapsed at home")

    @Test func theTokenCarriesTheCliniciansClaimsAndNamesThisGateway() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let signer = try #require(try folder.definition().auth?.onBehalfOf)
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let token = try await signer.token(for: Self.clinician, now: now)

        // Verified with the public half of the key in the file, under the kid the file names.
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: try ES256PublicKey(pem: folder.key.publicKey.pemRepresentation), kid: "hub-1")
        let header = try #require(Data(base64URL: String(token.split(separator: ".")[0])))
        #expect(String(decoding: header, as: UTF8.self).contains(#""kid":"hub-1""#))
        _ = try await keys.verify(token, as: Claims.self)

        let payload = try #require(Data(base64URL: String(token.split(separator: ".")[1])))
        let claims = try JSONSerialization.jsonObject(with: payload) as? [String: Any]
        #expect(claims?["sub"] as? String == "user-42")
        #expect(claims?["name"] as? String == "Dr A Example")
        #expect(claims?["org"] as? String == "RX1")
        #expect(claims?["role"] as? String == "R8000")
        #expect(claims?["purpose"] as? String == "emergency")
        #expect(claims?["patient"] as? String == "9990000018")
        #expect((claims?["act"] as? [String: String])?["sub"] == "london-hub")
        #expect(claims?["iss"] as? String == "https://hub.caregate.test")
        #expect(claims?["aud"] as? String == "caregate-north" || (claims?["aud"] as? [String]) == ["caregate-north"])
        #expect(claims?["iat"] as? Double == 1_796_000_000)
        #expect(claims?["exp"] as? Double == 1_796_000_000 + OnBehalfOfSigner.lifetime)
        // No scope: a gateway never passes on an operator's authority.
        #expect(claims?["scope"] == nil)
    }

    /// The same clinician, patient and purpose within `reuse` seconds get the same token (the other gateway's
    /// verified-token cache then answers); anything else, or later, a new one.
    @Test func aTokenIsReusedForTheSameClaimsForHalfItsLife() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let signer = try #require(try folder.definition().auth?.onBehalfOf)
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let first = try await signer.token(for: Self.clinician, now: now)
        #expect(try await signer.token(for: Self.clinician, now: now.addingTimeInterval(29)) == first)
        var otherReason = Self.clinician
        otherReason.breakGlassReason = "another reason, sent as a header"
        #expect(try await signer.token(for: otherReason, now: now.addingTimeInterval(5)) == first)

        var otherPatient = Self.clinician
        otherPatient.launchPatient = try NHSNumber("9990000026")
        #expect(try await signer.token(for: otherPatient, now: now.addingTimeInterval(5)) != first)
        var otherPurpose = Self.clinician
        otherPurpose.purpose = "direct-care"
        #expect(try await signer.token(for: otherPurpose, now: now.addingTimeInterval(5)) != first)

        let later = try await signer.token(for: Self.clinician, now: now.addingTimeInterval(OnBehalfOfSigner.reuse))
        #expect(later != first)
        let payload = try #require(Data(base64URL: String(later.split(separator: ".")[1])))
        let claims = try JSONSerialization.jsonObject(with: payload) as? [String: Any]
        #expect(claims?["iat"] as? Double == 1_796_000_000 + OnBehalfOfSigner.reuse)
    }

    /// The tokens kept for reuse hold launch patients' NHS numbers: past `recentLimit` clinicians the stale ones go
    /// first, and if none is stale, all — never an unbounded map.
    @Test func theTokensKeptForReuseAreBounded() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let signer = try #require(try folder.definition().auth?.onBehalfOf)
        let limit = OnBehalfOfSigner.SigningKeys.recentLimit
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        func clinician(_ number: Int) -> OnBehalfOf {
            var caller = Self.clinician
            caller.userID = "user-\(number)"
            return caller
        }
        // One stale token, then clinicians up to the limit.
        _ = try await signer.token(for: clinician(0), now: now)
        let later = now.addingTimeInterval(OnBehalfOfSigner.reuse + 10)
        for number in 1..<limit { _ = try await signer.token(for: clinician(number), now: later) }
        let kept = try await signer.token(for: clinician(1), now: later)

        // One more: the stale one goes, the fresh ones stay.
        _ = try await signer.token(for: clinician(limit), now: later)
        #expect(try await signer.token(for: clinician(1), now: later) == kept)

        // Another, with none stale: all go, so clinician 1's next token is signed afresh.
        _ = try await signer.token(for: clinician(limit + 1), now: later)
        #expect(try await signer.token(for: clinician(1), now: later) != kept)
    }

    @Test func noClinicianNoToken() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let auth = try #require(try folder.definition().auth)
        await #expect(throws: ProviderFailure.self) { try await auth.authorization() }
        let header = try await OnBehalfOf.$current.withValue(Self.clinician) { try await auth.authorization() }
        #expect(header.hasPrefix("Bearer ey"))
    }

    @Test func theCredentialSummaryNamesTheKeyNeverItsContent() throws {
        let folder = try Folder()
        defer { folder.remove() }
        let lines = try folder.definition().credentialSummary()
        #expect(lines.contains { $0.contains("hub.pem") && $0.contains("hub-1") && $0.contains("london-hub") })
        #expect(!lines.joined().contains("BEGIN"))
    }

    @Test(arguments: [
        // A gateway is asked only on behalf of a clinician.
        ("  on_behalf_of:\n    issuer: https://hub.caregate.test\n    actor: london-hub\n    audience: caregate-north\n    key_file: hub.pem\n    key_id: hub-1",
         "  bearer_token_file: token.txt", "key 'auth': a gateway is asked on behalf of the clinician"),
        ("format: fhir-r4-xml", "format: cda", "key 'format': a gateway answers in fhir-r4-xml"),
        ("kind: gateway", "kind: gp", "key 'auth': on_behalf_of is only for a provider of kind gateway"),
        ("key_file: hub.pem", "key_file: token.txt", "key 'auth.on_behalf_of.key_file':"),
        ("\n    key_id: hub-1", "", "key 'auth.on_behalf_of.key_id': missing (required)"),
        ("    actor: london-hub\n", "    actor: london-hub\n    scope: caregate.admin\n",
         "key 'auth.on_behalf_of.scope': unknown key"),
    ])
    func refusesABadGatewayFile(_ original: String, _ replacement: String, _ expected: String) throws {
        let folder = try Folder()
        defer { folder.remove() }
        try "abc.def-token".write(toFile: folder.path + "/token.txt", atomically: true, encoding: .utf8)
        let yaml = Folder.gateway.replacingOccurrences(of: original, with: replacement)
        #expect(yaml != Folder.gateway)
        let message = try #require(folder.refusal(yaml))
        #expect(message.contains(expected), "\(message)")
    }

    struct Claims: JWTPayload {
        var exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
