import CareRecords
import Crypto
import CryptoExtras
import Foundation
import JWTKit

@testable import Policy

/// Keys, key sets and hand-made tokens for the verifier's tests. Synthetic NHS numbers only.
enum TokenFixture {
    static let issuer = "https://idp.test.example"
    static let audience = "caregate"
    static let launchPatient = try! NHSNumber("9990000018")
    static let otherPatient = try! NHSNumber("9990000026")

    /// One RSA key serves RS256 and PS256 (under two kids); generated once, as RSA generation is slow.
    static let rsaKey: JWTKit.Insecure.RSA.PrivateKey = {
        try! JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
    }()
    static let ecKey = ES256PrivateKey()

    static func base64URL(_ data: some DataProtocol) -> String { TokenBase64URL.encode(data) }

    static var rsaJWK: [String: String] {
        let primitives = try! rsaKey.publicKey.getKeyPrimitives()
        return ["kty": "RSA", "n": base64URL(primitives.modulus), "e": base64URL(primitives.publicExponent)]
    }

    static var ecJWK: [String: String] {
        let parameters = ecKey.publicKey.parameters!
        return ["kty": "EC", "crv": "P-256", "x": parameters.x, "y": parameters.y]
    }

    /// A JWKS with the RSA key as `rs` (RS256), again as `ps` (PS256), and the EC key as `ec` (ES256).
    static var jwks: String {
        var rs = rsaJWK
        rs["kid"] = "rs"
        rs["alg"] = "RS256"
        var ps = rsaJWK
        ps["kid"] = "ps"
        ps["alg"] = "PS256"
        var ec = ecJWK
        ec["kid"] = "ec"
        ec["alg"] = "ES256"
        return keySet([rs, ps, ec])
    }

    static func keySet(_ keys: [[String: String]]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["keys": keys], options: [.sortedKeys]), as: UTF8.self)
    }

    static func verifier() async throws -> TokenVerifier {
        try await TokenVerifier(jwks: jwks, issuer: issuer, audience: audience)
    }

    static func claims(
        role: String = "R8000", patient: NHSNumber = launchPatient, purpose: AccessPurpose = .directCare,
        issuer: String = issuer, audience: String = audience, now: Date = Date(), ttl: Duration = .seconds(900)
    ) -> AccessClaims {
        AccessClaims.demo(
            role: role, patient: patient, org: "RX1", purpose: purpose, ttl: ttl, issuer: issuer, audience: audience,
            now: now)
    }

    /// Signs with jwt-kit under `kid`, using the algorithm named.
    static func sign(_ payload: some JWTPayload, alg: String, kid: String) async throws -> String {
        let keys = JWTKeyCollection()
        let id = JWKIdentifier(string: kid)
        switch alg {
        case "RS256": await keys.add(rsa: rsaKey, digestAlgorithm: .sha256, kid: id)
        case "PS256": await keys.add(pss: rsaKey, digestAlgorithm: .sha256, kid: id)
        case "ES256": await keys.add(ecdsa: ecKey, kid: id)
        default: fatalError("unsupported test algorithm \(alg)")
        }
        return try await keys.sign(payload, kid: id)
    }

    /// A token assembled by hand from JSON texts, for headers and payloads jwt-kit would not produce.
    static func handMade(header: String, payload: String, signature: [UInt8]) -> String {
        base64URL(Data(header.utf8)) + "." + base64URL(Data(payload.utf8)) + "." + base64URL(signature)
    }

    static func json(_ claims: AccessClaims) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: try! encoder.encode(claims), as: UTF8.self)
    }

    /// Valid claims as a JSON object, to remove or spoil one claim at a time.
    static func claimsObject() -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(json(claims()).utf8)) as! [String: Any]
    }

    /// Signs arbitrary payload JSON with the EC key under kid `ec`, so only the claims are at fault.
    static func signES256(payload: String) throws -> String {
        let header = #"{"alg":"ES256","kid":"ec","typ":"JWT"}"#
        let input = base64URL(Data(header.utf8)) + "." + base64URL(Data(payload.utf8))
        let key = try P256.Signing.PrivateKey(pemRepresentation: ecKey.pemRepresentation)
        let signature = try key.signature(for: Data(input.utf8)).rawRepresentation
        return input + "." + base64URL(signature)
    }
}
