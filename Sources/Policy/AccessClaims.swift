import CareRecords
import Foundation
import JWTKit

/// Why the caller is asking, as the `purpose` claim spells it.
public enum AccessPurpose: String, Codable, Sendable, Hashable, CaseIterable {
    /// Care of the patient the portal was launched for.
    case directCare = "direct-care"
    /// Break-glass: may reach another patient's record, but only with a stated reason, and is flagged.
    case emergency
}

/// The claims of a CareGate bearer token, CIS2-style, spelled as they travel.
///
/// Decoding enforces types (an invalid NHS number or an unknown purpose fails); `TokenVerifier` then checks
/// issuer, audience and the shape of the identity claims. `verify(using:)` is jwt-kit's hook and checks time.
public struct AccessClaims: JWTPayload, Equatable {
    /// The user's id at the identity provider.
    public var sub: SubjectClaim
    /// The user's display name, recorded in the audit.
    public var name: String
    /// The ODS code of the organisation the user is acting for.
    public var org: String
    /// The NHS RBAC job role code (`R8000`), or a CIS2 role profile code ending in one (`S8000:G8000:R8000`).
    public var role: String
    public var purpose: AccessPurpose
    /// The NHS number the portal launched for: the patient the caller has a relationship with.
    public var patient: NHSNumber
    /// Space-separated scopes; operators carry `caregate.admin`.
    public var scope: String?
    /// The CareGate gateway asking on the user's behalf (RFC 8693's actor claim, `{"sub": "<gateway id>"}`),
    /// present only in tokens another gateway minted for a federated query (see `TokenVerifier.actor`).
    public var act: ActorClaim?
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var exp: ExpirationClaim
    public var nbf: NotBeforeClaim?
    public var iat: IssuedAtClaim?

    /// Clock difference tolerated between the identity provider and this gateway.
    public static let clockSkewAllowance: TimeInterval = 30

    public init(
        sub: String, name: String, org: String, role: String, purpose: AccessPurpose, patient: NHSNumber,
        scope: String? = nil, act: String? = nil, iss: String, aud: String, exp: Date, nbf: Date? = nil,
        iat: Date? = nil
    ) {
        self.sub = SubjectClaim(value: sub)
        self.name = name
        self.org = org
        self.role = role
        self.purpose = purpose
        self.patient = patient
        self.scope = scope
        self.act = act.map { ActorClaim(sub: $0) }
        self.iss = IssuerClaim(value: iss)
        self.aud = AudienceClaim(value: [aud])
        self.exp = ExpirationClaim(value: exp)
        self.nbf = nbf.map { NotBeforeClaim(value: $0) }
        self.iat = iat.map { IssuedAtClaim(value: $0) }
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try verifyTime(now: Date())
    }

    /// Checks `exp` and `nbf` against `now`, allowing `clockSkewAllowance` either way.
    public func verifyTime(now: Date) throws {
        try exp.verifyNotExpired(currentDate: now.addingTimeInterval(-Self.clockSkewAllowance))
        try nbf?.verifyNotBefore(currentDate: now.addingTimeInterval(Self.clockSkewAllowance))
    }
}

/// RFC 8693's `act` claim: who is acting for the token's subject. CareGate reads only its `sub`.
public struct ActorClaim: Codable, Sendable, Hashable {
    public var sub: String

    public init(sub: String) {
        self.sub = sub
    }
}
