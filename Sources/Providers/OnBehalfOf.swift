import CareRecords
import Foundation
import JWTKit
import Synchronization

/// The clinician a query is asked for, as a provider that is another CareGate gateway must be told (federation).
///
/// The gateway's edge sets `OnBehalfOf.$current` around a query's fan-out, once it has verified the caller's token
/// and decided the access; the fan-out's tasks inherit it. Only an adapter whose provider signs on-behalf-of tokens
/// (`auth: on_behalf_of:`) reads it. Holds the launch patient's NHS number: never log it above debug level.
public struct OnBehalfOf: Sendable, Hashable {
    public var userID: String
    public var name: String
    /// ODS code of the user's organisation.
    public var organisation: String
    /// NHS RBAC job role code.
    public var role: String
    /// `direct-care` or `emergency`, as the caller's token said.
    public var purpose: String
    /// The patient the portal launched for.
    public var launchPatient: NHSNumber
    /// The stated reason, for a break-glass query.
    public var breakGlassReason: String?

    public init(
        userID: String, name: String, organisation: String, role: String, purpose: String, launchPatient: NHSNumber,
        breakGlassReason: String? = nil
    ) {
        self.userID = userID
        self.name = name
        self.organisation = organisation
        self.role = role
        self.purpose = purpose
        self.launchPatient = launchPatient
        self.breakGlassReason = breakGlassReason
    }

    /// The clinician the current query is for; nil outside a query (`providers check`, benchmarks).
    @TaskLocal public static var current: OnBehalfOf?
}

/// Signs, for each request to another CareGate gateway, a short-lived token carrying the clinician's claims and
/// naming this gateway as the actor (`auth: on_behalf_of:` in a `kind: gateway` provider's file). The other gateway
/// trusts this gateway's public key for that (its config `auth.gateways`), applies its own opt-outs, relationship
/// and role policy to the clinician, and audits them with this gateway as the one they came through.
///
/// Keys: `issuer` (this gateway's `iss`, as the other gateway's config names it), `actor` (this gateway's id, its
/// tokens' `act.sub`), `audience` (the other gateway's `auth.audience`), `key_file` (this gateway's EC P-256
/// private key, PEM; relative to the provider file's folder), `key_id` (the `kid` of its public key in the JWKS
/// the other gateway holds). The token lives `lifetime` (60 s): long enough for clock skew, too short to reuse.
public struct OnBehalfOfSigner: Sendable, Hashable {
    public let issuer: String
    public let actor: String
    public let audience: String
    public let keyID: String
    /// The `key_file` path as resolved.
    public let keyFile: String
    private let key: ProviderSecret<String>
    private let keys: SigningKeys

    static let keys: Set<String> = ["issuer", "actor", "audience", "key_file", "key_id"]
    public static let lifetime: TimeInterval = 60

    init(_ fields: YAMLFields, resolve: ProviderFileResolver) throws(ConfigurationError) {
        issuer = try fields.string("issuer")!
        actor = try fields.string("actor")!
        audience = try fields.string("audience")!
        keyID = try fields.string("key_id")!
        keyFile = try resolve.path(of: "key_file", in: fields, required: true)!
        let pem = String(decoding: try fields.contents(ofFile: keyFile, key: "key_file"), as: UTF8.self)
        let privateKey: ES256PrivateKey
        do {
            privateKey = try ES256PrivateKey(pem: pem)
        } catch {
            throw fields.error("key_file", "\(keyFile) holds no EC P-256 private key in PEM")
        }
        key = ProviderSecret(pem)
        keys = SigningKeys(privateKey, kid: keyID)
    }

    /// How long a token signed for a clinician is used again for the same clinician, patient and purpose: half its
    /// `lifetime`, so a reused token still has 30 s left. The other gateway then finds it in its verified-token cache
    /// instead of checking a new signature for every query and every page.
    public static let reuse: TimeInterval = 30

    /// A token for `caller`, valid for `lifetime` from when it was signed: the one signed for the same claims within
    /// the last `reuse` seconds, or a new one from `now`. (A break-glass reason travels in a header, not the token.)
    public func token(for caller: OnBehalfOf, now: Date = Date()) async throws -> String {
        let reuseKey = ReuseKey(caller)
        if let token = keys.reusable(reuseKey, now: now) { return token }
        let token = try await sign(for: caller, now: now)
        keys.remember(token, for: reuseKey, signed: now)
        return token
    }

    private func sign(for caller: OnBehalfOf, now: Date) async throws -> String {
        let claims = OnBehalfOfClaims(
            sub: SubjectClaim(value: caller.userID), name: caller.name, org: caller.organisation, role: caller.role,
            purpose: caller.purpose, patient: caller.launchPatient.digits, act: Actor(sub: actor),
            iss: IssuerClaim(value: issuer), aud: AudienceClaim(value: [audience]),
            exp: ExpirationClaim(value: now.addingTimeInterval(Self.lifetime)), iat: IssuedAtClaim(value: now))
        return try await keys.sign(claims)
    }

    public static func == (lhs: OnBehalfOfSigner, rhs: OnBehalfOfSigner) -> Bool {
        (lhs.issuer, lhs.actor, lhs.audience, lhs.keyID, lhs.keyFile, lhs.key)
            == (rhs.issuer, rhs.actor, rhs.audience, rhs.keyID, rhs.keyFile, rhs.key)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(issuer)
        hasher.combine(actor)
        hasher.combine(audience)
        hasher.combine(keyID)
        hasher.combine(keyFile)
        hasher.combine(key)
    }

    /// What a token says about its clinician: a token is reused only for the very same claims.
    struct ReuseKey: Hashable, Sendable {
        var userID, name, organisation, role, purpose: String
        var launchPatient: NHSNumber

        init(_ caller: OnBehalfOf) {
            (userID, name, organisation, role, purpose) =
                (caller.userID, caller.name, caller.organisation, caller.role, caller.purpose)
            launchPatient = caller.launchPatient
        }
    }

    /// The private key, ready to sign (jwt-kit's collection is an actor, so adding the key and signing are `async`:
    /// the key is added at the first signature, not at every one), and the tokens signed recently, for reuse. They
    /// hold launch patients' NHS numbers, in memory only and for at most `reuse` seconds of use.
    final class SigningKeys: Sendable {
        let collection = JWTKeyCollection()
        let kid: JWKIdentifier
        let privateKey: ES256PrivateKey
        private let added = Atomic(false)
        private let recent = Mutex<[ReuseKey: (token: String, signed: Date)]>([:])
        /// The most tokens kept for reuse; past it, the stale ones go, and if none is stale, all.
        static let recentLimit = 4096

        func reusable(_ key: ReuseKey, now: Date) -> String? {
            recent.withLock { recent in
                guard let entry = recent[key], entry.signed <= now, now.timeIntervalSince(entry.signed) < reuse else {
                    return nil
                }
                return entry.token
            }
        }

        func remember(_ token: String, for key: ReuseKey, signed: Date) {
            recent.withLock { recent in
                if recent.count >= Self.recentLimit {
                    recent = recent.filter { signed.timeIntervalSince($0.value.signed) < reuse }
                    if recent.count >= Self.recentLimit { recent.removeAll() }
                }
                recent[key] = (token, signed)
            }
        }

        init(_ privateKey: ES256PrivateKey, kid: String) {
            self.privateKey = privateKey
            self.kid = JWKIdentifier(string: kid)
        }

        func sign(_ claims: OnBehalfOfClaims) async throws -> String {
            if !added.load(ordering: .acquiring) {
                // Two first signatures at once both add it: the same key under the same kid, harmlessly.
                await collection.add(ecdsa: privateKey, kid: kid)
                added.store(true, ordering: .releasing)
            }
            return try await collection.sign(claims, kid: kid)
        }
    }

    struct Actor: Codable, Sendable {
        var sub: String
    }

    /// The claims another CareGate gateway reads as its `AccessClaims`, spelt the same.
    struct OnBehalfOfClaims: JWTPayload {
        var sub: SubjectClaim
        var name: String
        var org: String
        var role: String
        var purpose: String
        var patient: String
        var act: Actor
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}
