import Foundation
import JWTKit

/// The verification keys from a JWKS, indexed by key id and then by the algorithm each may be used with.
///
/// Only public signing keys for RS256, PS256 and ES256 (P-256) are taken. A key without `alg` is offered for
/// every accepted algorithm of its type (RSA: RS256 and PS256). Keys for encryption (`use: enc`) and other key
/// types are skipped; a JWKS holding private key material is refused outright, since it should never have
/// been published.
struct TokenKeySet: Sendable {
    static let acceptedAlgorithms: Set<String> = ["RS256", "PS256", "ES256"]

    private(set) var keys: [String: [String: any JWTAlgorithm]] = [:]

    /// The algorithm to verify a token whose header names `kid` and `alg`.
    func algorithm(kid: String, alg: String) -> (any JWTAlgorithm)? {
        keys[kid]?[alg]
    }

    func knows(kid: String) -> Bool { keys[kid] != nil }

    init(jwksJSON: String) async throws(KeySetError) {
        let document: RawKeySet
        do {
            document = try JSONDecoder().decode(RawKeySet.self, from: Data(jwksJSON.utf8))
        } catch {
            throw KeySetError("the JWKS is not a JSON object with a `keys` array")
        }
        for (index, raw) in document.keys.enumerated() {
            let name = raw.kid.map { "`\($0)`" } ?? "#\(index + 1)"
            if raw.d != nil || raw.p != nil || raw.q != nil {
                throw KeySetError("JWKS key \(name) holds private key material; publish only public keys")
            }
            if let use = raw.use, use != "sig" { continue }
            let algorithms: [String]
            switch (raw.kty, raw.alg) {
            case ("RSA", nil): algorithms = ["RS256", "PS256"]
            case ("RSA", let alg?) where alg == "RS256" || alg == "PS256": algorithms = [alg]
            case ("EC", nil) where raw.crv == "P-256": algorithms = ["ES256"]
            case ("EC", "ES256"?) where raw.crv == "P-256": algorithms = ["ES256"]
            default: continue
            }
            guard let kid = raw.kid, !kid.isEmpty else {
                throw KeySetError("JWKS key \(name) has no `kid`; tokens could not name it")
            }
            guard keys[kid] == nil else {
                throw KeySetError("JWKS key id `\(kid)` appears more than once")
            }
            var byAlgorithm: [String: any JWTAlgorithm] = [:]
            for alg in algorithms {
                do {
                    byAlgorithm[alg] = try await Self.algorithm(for: raw, kid: kid, alg: alg)
                } catch {
                    throw KeySetError("JWKS key `\(kid)` is not a usable \(alg) public key")
                }
            }
            keys[kid] = byAlgorithm
        }
        guard !keys.isEmpty else {
            throw KeySetError("the JWKS holds no usable signing key (RS256, PS256 or ES256 on P-256)")
        }
    }

    /// jwt-kit builds the verifier from the key material, so its own checks (RSA ≥ 2048 bits, point on curve) apply.
    private static func algorithm(for raw: RawKey, kid: String, alg: String) async throws -> any JWTAlgorithm {
        let identifier = JWKIdentifier(string: kid)
        let jwk: JWK
        switch alg {
        case "RS256": jwk = .rsa(.rs256, identifier: identifier, modulus: raw.n, exponent: raw.e)
        case "PS256": jwk = .rsa(.ps256, identifier: identifier, modulus: raw.n, exponent: raw.e)
        default: jwk = .ecdsa(.es256, identifier: identifier, x: raw.x, y: raw.y, curve: .p256)
        }
        let collection = JWTKeyCollection()
        try await collection.add(jwk: jwk)
        return try await collection.getKey(for: identifier, alg: alg)
    }
}

private struct RawKeySet: Decodable {
    var keys: [RawKey]
}

private struct RawKey: Decodable {
    var kty: String
    var kid: String?
    var alg: String?
    var use: String?
    var crv: String?
    var n: String?
    var e: String?
    var x: String?
    var y: String?
    var d: String?
    var p: String?
    var q: String?
}
