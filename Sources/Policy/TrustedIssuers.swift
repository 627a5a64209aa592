/// Every issuer whose bearer tokens a gateway accepts: its identity provider, and each CareGate gateway it
/// federates with (config `auth.gateways`), whose tokens carry a clinician's claims and name that gateway in `act`.
///
/// A token is checked by the one verifier for the issuer it claims, which then verifies signature, issuer,
/// audience and actor itself: claiming another gateway's issuer gains nothing without that gateway's key.
public struct TrustedIssuers: Sendable {
    public let identityProvider: TokenVerifier
    /// By issuer.
    private let gateways: [String: TokenVerifier]

    /// - Precondition: every verifier in `gateways` has an `actor`, and all issuers differ (the config checks both).
    public init(identityProvider: TokenVerifier, gateways: [TokenVerifier] = []) {
        precondition(gateways.allSatisfy { $0.actor != nil }, "a federated gateway's verifier names its actor")
        self.identityProvider = identityProvider
        self.gateways = Dictionary(uniqueKeysWithValues: gateways.map { ($0.issuer, $0) })
        precondition(self.gateways[identityProvider.issuer] == nil, "a gateway's issuer differs from the IdP's")
    }

    /// The ids of the gateways trusted to ask on their clinicians' behalf.
    public var gatewayIDs: [String] { gateways.values.compactMap(\.actor).sorted() }

    /// The verifier of the gateway with this id, if trusted (to refresh its keys).
    public func gateway(id: String) -> TokenVerifier? { gateways.values.first { $0.actor == id } }

    /// Verifies a token given bare or as an `Authorization` header value.
    public func verify(_ bearer: String) async throws(AuthenticationError) -> VerifiedCaller {
        if !gateways.isEmpty, let issuer = TokenVerifier.unverifiedIssuer(of: bearer), let gateway = gateways[issuer] {
            return try await gateway.verify(bearer)
        }
        return try await identityProvider.verify(bearer)
    }
}
