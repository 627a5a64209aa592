import CareRecords
import Crypto
import Foundation
import JWTKit
import Testing

@testable import Policy

@Suite("Bearer token verification")
struct TokenVerifierTests {
    func refusal(_ token: String, verifier: TokenVerifier? = nil) async throws -> AuthenticationError? {
        let verifier = if let verifier { verifier } else { try await TokenFixture.verifier() }
        do {
            _ = try await verifier.verify(token)
            return nil
        } catch {
            return error
        }
    }

    @Test("RS256, PS256 and ES256 tokens verify", arguments: [("RS256", "rs"), ("PS256", "ps"), ("ES256", "ec")])
    func acceptedAlgorithms(alg: String, kid: String) async throws {
        let token = try await TokenFixture.sign(TokenFixture.claims(), alg: alg, kid: kid)
        let caller = try await TokenFixture.verifier().verify("Bearer " + token)
        #expect(caller.role == "R8000")
        #expect(caller.organisation == "RX1")
        #expect(caller.launchPatient == TokenFixture.launchPatient)
        #expect(caller.purpose == .directCare)
        #expect(!caller.isOperator)
    }

    @Test("an RSA key without `alg` accepts both RS256 and PS256")
    func rsaKeyWithoutAlgorithm() async throws {
        var jwk = TokenFixture.rsaJWK
        jwk["kid"] = "any"
        let verifier = try await TokenVerifier(
            jwks: TokenFixture.keySet([jwk]), issuer: TokenFixture.issuer, audience: TokenFixture.audience)
        for alg in ["RS256", "PS256"] {
            let token = try await TokenFixture.sign(TokenFixture.claims(), alg: alg, kid: "any")
            _ = try await verifier.verify(token)
        }
    }

    @Test("alg: none is refused")
    func algNone() async throws {
        let token = TokenFixture.handMade(
            header: #"{"alg":"none","typ":"JWT"}"#, payload: TokenFixture.json(TokenFixture.claims()), signature: [])
        #expect(try await refusal(token)?.reason == .algorithmNotAllowed)
        // Also with a kid the verifier knows.
        let withKid = TokenFixture.handMade(
            header: #"{"alg":"none","kid":"rs"}"#, payload: TokenFixture.json(TokenFixture.claims()), signature: [])
        #expect(try await refusal(withKid)?.reason == .algorithmNotAllowed)
    }

    @Test("HS256 signed with the public key as the HMAC secret (key confusion) is refused")
    func hmacWithPublicKey() async throws {
        for (kid, secret) in [
            ("rs", Data(TokenFixture.rsaKey.publicKey.pemRepresentation.utf8)),
            ("ec", Data(TokenFixture.ecKey.publicKey.pemRepresentation.utf8)),
            ("rs", Data(TokenFixture.jwks.utf8)),
        ] {
            let header = #"{"alg":"HS256","kid":"\#(kid)","typ":"JWT"}"#
            let payload = TokenFixture.json(TokenFixture.claims())
            let input = TokenFixture.base64URL(Data(header.utf8)) + "." + TokenFixture.base64URL(Data(payload.utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret))
            let token = input + "." + TokenFixture.base64URL(Data(mac))
            #expect(try await refusal(token)?.reason == .algorithmNotAllowed)
        }
    }

    @Test("an algorithm other than the key's own is refused (ES256 header on an RSA key)")
    func algorithmKeyMismatch() async throws {
        let token = try await TokenFixture.sign(TokenFixture.claims(), alg: "ES256", kid: "rs")
        #expect(try await refusal(token)?.reason == .algorithmNotAllowed)
    }

    @Test("an expired token is refused")
    func expired() async throws {
        let claims = TokenFixture.claims(now: Date().addingTimeInterval(-3600), ttl: .seconds(600))
        let token = try await TokenFixture.sign(claims, alg: "ES256", kid: "ec")
        #expect(try await refusal(token)?.reason == .expired)
    }

    @Test("a token not valid yet is refused")
    func notYetValid() async throws {
        let claims = TokenFixture.claims(now: Date().addingTimeInterval(600))
        let token = try await TokenFixture.sign(claims, alg: "ES256", kid: "ec")
        #expect(try await refusal(token)?.reason == .notYetValid)
    }

    @Test("a token from another issuer is refused")
    func wrongIssuer() async throws {
        let token = try await TokenFixture.sign(TokenFixture.claims(issuer: "https://evil.example"), alg: "RS256", kid: "rs")
        #expect(try await refusal(token)?.reason == .wrongIssuer)
    }

    @Test("a token for another audience is refused")
    func wrongAudience() async throws {
        let token = try await TokenFixture.sign(TokenFixture.claims(audience: "another-service"), alg: "RS256", kid: "rs")
        #expect(try await refusal(token)?.reason == .wrongAudience)
    }

    @Test("a token with one byte tampered is refused", arguments: ["payload", "signature"])
    func badSignature(part: String) async throws {
        let token = try await TokenFixture.sign(TokenFixture.claims(), alg: "ES256", kid: "ec")
        var pieces = token.split(separator: ".").map(String.init)
        if part == "payload" {
            // Swap the launch patient for another: a well-formed payload the key never signed.
            var object = TokenFixture.claimsObject()
            object["patient"] = TokenFixture.otherPatient.digits
            let json = try JSONSerialization.data(withJSONObject: object)
            pieces[1] = TokenFixture.base64URL(json)
        } else {
            var signature = TokenBase64URL.decode(pieces[2][...])!
            signature[10] ^= 0x01
            pieces[2] = TokenFixture.base64URL(signature)
        }
        #expect(try await refusal(pieces.joined(separator: "."))?.reason == .badSignature)
    }

    @Test("a token signed by a key with an unknown kid is refused")
    func unknownKid() async throws {
        let token = try await TokenFixture.sign(TokenFixture.claims(), alg: "ES256", kid: "not-in-the-jwks")
        #expect(try await refusal(token)?.reason == .unknownKey)
        let noKid = TokenFixture.handMade(
            header: #"{"alg":"ES256"}"#, payload: TokenFixture.json(TokenFixture.claims()), signature: [1, 2, 3])
        #expect(try await refusal(noKid)?.reason == .unknownKey)
    }

    @Test("a token missing a required claim is refused, naming the claim", arguments: ["sub", "org", "role", "patient", "purpose", "exp", "iss", "aud"])
    func missingClaim(claim: String) async throws {
        var object = TokenFixture.claimsObject()
        object.removeValue(forKey: claim)
        let token = try TokenFixture.signES256(payload: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        let error = try await refusal(token)
        #expect(error?.reason == .missingClaim)
        #expect(error?.claim == claim)
    }

    @Test(
        "a malformed claim is refused",
        arguments: [
            ("patient", "9990000019"),  // wrong check digit
            ("patient", "not a number"),
            ("purpose", "curiosity"),
            ("role", "doctor"),
            ("org", ""),
            ("exp", "tomorrow"),
        ] as [(String, String)])
    func malformedClaim(claim: String, value: String) async throws {
        var object = TokenFixture.claimsObject()
        object[claim] = value
        let token = try TokenFixture.signES256(payload: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        let error = try await refusal(token)
        #expect(error?.reason == .malformedClaim || error?.reason == .missingClaim)
        #expect(error?.claim == claim)
    }

    @Test("garbage and empty bearer values are refused without echoing them")
    func garbage() async throws {
        #expect(try await refusal("")?.reason == .missingToken)
        #expect(try await refusal("Bearer ")?.reason == .missingToken)
        let error = try await refusal("Bearer secret-looking.9990000018.stuff")
        #expect(error?.reason == .malformedToken)
        #expect(error.map { !$0.description.contains("9990000018") } == true)
    }

    @Test("the scheme and the spaces and tabs around a bearer value are stripped, nothing else")
    func schemeAndSpaces() {
        #expect(TokenVerifier.stripScheme("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(TokenVerifier.stripScheme(" \tbearer   abc.def.ghi \t") == "abc.def.ghi")
        #expect(TokenVerifier.stripScheme("BEARER") == "")
        #expect(TokenVerifier.stripScheme("  abc.def.ghi") == "abc.def.ghi")
        #expect(TokenVerifier.stripScheme("Bearerabc") == "Bearerabc")
        #expect(TokenVerifier.stripScheme(" \t ") == "")
        // Only HTTP's white space: a no-break space is part of the value, which then fails to verify.
        #expect(TokenVerifier.stripScheme("Bearer abc\u{00A0}") == "abc\u{00A0}")
    }

    @Test("a CIS2 role profile code yields its job role; scope marks operators")
    func roleProfileAndScope() async throws {
        var object = TokenFixture.claimsObject()
        object["role"] = "S8000:G8000:R8000"
        object["scope"] = "openid caregate.admin"
        let token = try TokenFixture.signES256(payload: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        let caller = try await TokenFixture.verifier().verify(token)
        #expect(caller.role == "R8000")
        #expect(caller.isOperator)
    }

    @Test("replaceKeys swaps the trusted keys; a bad JWKS leaves the old ones in force")
    func replaceKeys() async throws {
        let verifier = try await TokenFixture.verifier()
        let token = try await TokenFixture.sign(TokenFixture.claims(), alg: "ES256", kid: "ec")
        _ = try await verifier.verify(token)

        var rs = TokenFixture.rsaJWK
        rs["kid"] = "rs-only"
        try await verifier.replaceKeys(jwks: TokenFixture.keySet([rs]))
        #expect(try await refusal(token, verifier: verifier)?.reason == .unknownKey)

        await #expect(throws: KeySetError.self) { try await verifier.replaceKeys(jwks: #"{"keys":[]}"#) }
        #expect(verifier.keyIDs == ["rs-only"])
    }

    @Test("a token verified once is remembered, but its expiry is still checked on every use")
    func rememberedTokensStillExpire() async throws {
        let verifier = try await TokenFixture.verifier()
        let issued = Date()
        let token = try await TokenFixture.sign(TokenFixture.claims(now: issued, ttl: .seconds(600)), alg: "ES256", kid: "ec")
        let first = try await verifier.verify(token, now: issued)
        #expect(try await verifier.verify("Bearer " + token, now: issued.addingTimeInterval(60)) == first)
        await #expect(throws: AuthenticationError(.expired)) {
            try await verifier.verify(token, now: issued.addingTimeInterval(700))
        }
        // One byte different is another token: verified from scratch, and refused.
        var characters = Array(token)
        characters[characters.count - 10] = characters[characters.count - 10] == "A" ? "B" : "A"
        let tampered = String(characters)
        #expect(try await refusal(tampered, verifier: verifier)?.reason == .badSignature)
    }

    @Test("a verification begun under keys since replaced is not remembered; the memory is bounded")
    func rememberedTokensFollowTheKeys() throws {
        let claims = TokenFixture.claims()
        let caller = try claims.caller()
        var tokens = VerifiedTokens()
        guard case .absent(let before) = tokens.lookup("t") else { Issue.record("empty memory found a token"); return }
        tokens.reset()
        tokens.insert("t", claims: claims, caller: caller, generation: before, now: Date())
        guard case .absent(let now) = tokens.lookup("t") else { Issue.record("a stale verification was kept"); return }
        tokens.insert("t", claims: claims, caller: caller, generation: now, now: Date())
        guard case .found(_, let found) = tokens.lookup("t") else { Issue.record("a verified token was not kept"); return }
        #expect(found == caller)
        for index in 0..<(VerifiedTokens.capacity + 5) {
            tokens.insert("token-\(index)", claims: claims, caller: caller, generation: now, now: Date())
        }
        #expect(tokens.count <= VerifiedTokens.capacity)
    }

    @Test("a JWKS with private key material or no usable key is refused")
    func badKeySets() async throws {
        var leaked = TokenFixture.ecJWK
        leaked["kid"] = "leak"
        leaked["d"] = "AAAA"
        for jwks in [TokenFixture.keySet([leaked]), #"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#, "not json"] {
            await #expect(throws: KeySetError.self) {
                _ = try await TokenVerifier(jwks: jwks, issuer: TokenFixture.issuer, audience: TokenFixture.audience)
            }
        }
    }
}
