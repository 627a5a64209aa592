/// Why a bearer token was refused. Maps to HTTP 401 at the edge.
///
/// `reason` is a closed set of machine codes, safe as a metric label; `description` never repeats any part
/// of the token, only the name of a claim where one is at fault.
public struct AuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case missingToken = "missing-token"
        case malformedToken = "malformed-token"
        case algorithmNotAllowed = "algorithm-not-allowed"
        case unknownKey = "unknown-key"
        case badSignature = "bad-signature"
        case expired
        case notYetValid = "not-yet-valid"
        case wrongIssuer = "wrong-issuer"
        case wrongAudience = "wrong-audience"
        case missingClaim = "missing-claim"
        case malformedClaim = "malformed-claim"
        /// An `act` claim in a token from the identity provider: only gateways this one federates with act for
        /// a user.
        case unexpectedActor = "unexpected-actor"
        /// A federated gateway's token naming another actor than that gateway.
        case wrongActor = "wrong-actor"
    }

    public let reason: Reason
    /// The claim at fault, for `missing-claim` and `malformed-claim`: one of `AccessClaims`' own names.
    public let claim: String?

    public init(_ reason: Reason, claim: String? = nil) {
        self.reason = reason
        self.claim = claim
    }

    public var description: String {
        switch reason {
        case .missingToken: "no bearer token was presented"
        case .malformedToken: "the bearer token is not a well-formed JWT"
        case .algorithmNotAllowed: "the token's signing algorithm is not accepted (RS256, PS256 and ES256 are)"
        case .unknownKey: "the token was not signed with a key this gateway trusts"
        case .badSignature: "the token's signature does not verify"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .wrongIssuer: "the token was issued by an issuer this gateway does not trust"
        case .wrongAudience: "the token was not issued for this gateway"
        case .missingClaim: "the token lacks the claim `\(claim ?? "?")`"
        case .malformedClaim: "the token's claim `\(claim ?? "?")` is malformed"
        case .unexpectedActor:
            "the token names a party acting for its user (`act`), which only gateways this one federates with may"
        case .wrongActor: "the token's `act` names another gateway than the one whose keys signed it"
        }
    }
}

/// Why a JWKS could not be used. Descriptions name the key by its `kid`, never its material.
public struct KeySetError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
