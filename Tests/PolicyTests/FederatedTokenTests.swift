import CareRecords
import Foundation
import JWTKit
import Testing

@testable import Policy

/// Tokens another CareGate gateway mints for its clinicians (federation): verified with that gateway's own keys,
/// naming it in `act`, and never mistaken for the identity provider's — nor the other way round.
@Suite("Federated gateways' tokens")
struct FederatedTokenTests {
    static let hubIssuer = "https://hub.caregate.test"
    static let hubKey = ES256PrivateKey()

    /// The hub's JWKS: its one key, as `hub-1`.
    static var hubJWKS: String {
        let parameters = hubKey.publicKey.parameters!
        return TokenFixture.keySet([
            ["kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "hub-1", "x": parameters.x, "y": parameters.y]
        ])
    }

    static func issuers() async throws -> TrustedIssuers {
        TrustedIssuers(
            identityProvider: try await TokenFixture.verifier(),
            gateways: [
                try await TokenVerifier(
                    jwks: hubJWKS, issuer: hubIssuer, audience: TokenFixture.audience, actor: "london-hub")
            ])
    }

    static func hubClaims(act: String?, scope: String? = nil) -> AccessClaims {
        var claims = TokenFixture.claims(issuer: hubIssuer)
        claims.act = act.map { ActorClaim(sub: $0) }
        claims.scope = scope
        return claims
    }

    static func signAsHub(_ claims: AccessClaims) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: hubKey, kid: "hub-1")
        return try await keys.sign(claims, kid: "hub-1")
    }

    func refusal(_ token: String) async throws -> AuthenticationError.Reason? {
        let issuers = try await Self.issuers()
        do {
            _ = try await issuers.verify(token)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("a gateway's token is verified with its keys and the caller carries the gateway it came through")
    func acceptedThroughTheGateway() async throws {
        let token = try await Self.signAsHub(Self.hubClaims(act: "london-hub"))
        let caller = try await Self.issuers().verify("Bearer " + token)
        #expect(caller.viaGateway == "london-hub")
        #expect(caller.role == "R8000")
        #expect(caller.organisation == "RX1")
        #expect(caller.launchPatient == TokenFixture.launchPatient)
    }

    @Test("the identity provider's own tokens still verify, with no gateway")
    func identityProviderTokens() async throws {
        let token = try await TokenFixture.sign(TokenFixture.claims(), alg: "ES256", kid: "ec")
        let caller = try await Self.issuers().verify(token)
        #expect(caller.viaGateway == nil)
    }

    @Test("a gateway's token without `act` is refused")
    func missingActor() async throws {
        let token = try await Self.signAsHub(Self.hubClaims(act: nil))
        #expect(try await refusal(token) == .missingClaim)
    }

    @Test("a gateway's token naming another actor is refused")
    func wrongActor() async throws {
        let token = try await Self.signAsHub(Self.hubClaims(act: "another-gateway"))
        #expect(try await refusal(token) == .wrongActor)
    }

    @Test("an `act` in a token from the identity provider is refused")
    func actorFromTheIdentityProvider() async throws {
        var claims = TokenFixture.claims()
        claims.act = ActorClaim(sub: "london-hub")
        let token = try await TokenFixture.sign(claims, alg: "ES256", kid: "ec")
        #expect(try await refusal(token) == .unexpectedActor)
    }

    @Test("a token claiming the gateway's issuer but signed with another key is refused")
    func issuerWithoutItsKey() async throws {
        // Signed with the identity provider's key (kid `ec`), which the gateway's verifier does not hold.
        let token = try await TokenFixture.sign(Self.hubClaims(act: "london-hub"), alg: "ES256", kid: "ec")
        #expect(try await refusal(token) == .unknownKey)
        // And the hub's key cannot pass as the identity provider's.
        let claims = TokenFixture.claims()
        #expect(try await refusal(try await Self.signAsHub(claims)) == .unknownKey)
    }

    @Test("a gateway never passes on an operator's authority")
    func noOperatorThroughAGateway() async throws {
        let token = try await Self.signAsHub(Self.hubClaims(act: "london-hub", scope: VerifiedCaller.operatorScope))
        let caller = try await Self.issuers().verify(token)
        #expect(caller.scopes.contains(VerifiedCaller.operatorScope))
        #expect(!caller.isOperator)
    }

    @Test("the issuer is read without verifying, only to choose the verifier")
    func unverifiedIssuer() async throws {
        let token = try await Self.signAsHub(Self.hubClaims(act: "london-hub"))
        #expect(TokenVerifier.unverifiedIssuer(of: "Bearer " + token) == Self.hubIssuer)
        #expect(TokenVerifier.unverifiedIssuer(of: "not.a-token") == nil)
        #expect(TokenVerifier.unverifiedIssuer(of: "") == nil)
    }
}
