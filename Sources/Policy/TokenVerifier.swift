import CareRecords
import Foundation
import JWTKit
import Synchronization

/// Verifies CareGate bearer tokens against a trusted identity provider's keys. Does no networking: a caller
/// that fetches a JWKS URL hands the new document to `replaceKeys(jwks:)`.
///
/// Checks, in order: the header (`alg` one of RS256, PS256, ES256 — never `none` or HS*, so a public key
/// cannot be replayed as an HMAC secret; a `kid` this verifier knows), the signature, the claims' types,
/// `exp` and `nbf`, issuer, audience, then the identity claims' shape.
public final class TokenVerifier: Sendable {
    public let issuer: String
    public let audience: String
    /// For another CareGate gateway's tokens (federation): the id its tokens must name in `act.sub`, and which
    /// callers it verifies carry as `viaGateway`. Nil for the identity provider's own tokens, which must carry no
    /// `act` at all.
    public let actor: String?
    private let keySet: Mutex<TokenKeySet>
    private let verified = Mutex(VerifiedTokens())

    /// Tokens longer than this are refused before any parsing.
    static let maximumTokenLength = 16 * 1024

    /// - Parameters:
    ///   - jwks: a JSON Web Key Set document, as text.
    ///   - issuer: the exact `iss` expected.
    ///   - audience: a value `aud` must contain.
    ///   - actor: for another gateway's keys, the gateway's id, which its tokens must name as `act.sub`.
    public init(jwks: String, issuer: String, audience: String, actor: String? = nil) async throws(KeySetError) {
        self.issuer = issuer
        self.audience = audience
        self.actor = actor
        self.keySet = Mutex(try await TokenKeySet(jwksJSON: jwks))
    }

    /// Reads the JWKS from a file (config `auth.jwks_file`).
    public convenience init(
        jwksFile path: String, issuer: String, audience: String, actor: String? = nil
    ) async throws(KeySetError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KeySetError("cannot read the JWKS file \(path)")
        }
        try await self.init(jwks: text, issuer: issuer, audience: audience, actor: actor)
    }

    /// Swaps in a fresh key set atomically; on error the old keys stay in force.
    public func replaceKeys(jwks: String) async throws(KeySetError) {
        let fresh = try await TokenKeySet(jwksJSON: jwks)
        keySet.withLock { $0 = fresh }
        // A token verified with a key that has just gone must be checked again (and so refused).
        verified.withLock { $0.reset() }
    }

    /// The key ids currently trusted.
    public var keyIDs: Set<String> { keySet.withLock { Set($0.keys.keys) } }

    /// Verifies a token given bare or as an `Authorization` header value (`Bearer <JWT>`).
    public func verify(_ bearer: String) async throws(AuthenticationError) -> VerifiedCaller {
        try await verify(bearer, now: Date())
    }

    func verify(_ bearer: String, now: Date) async throws(AuthenticationError) -> VerifiedCaller {
        let token = Self.stripScheme(bearer)
        guard !token.isEmpty else { throw AuthenticationError(.missingToken) }
        guard token.utf8.count <= Self.maximumTokenLength else { throw AuthenticationError(.malformedToken) }

        let text = String(token)
        let generation: Int
        switch verified.withLock({ $0.lookup(text) }) {
        case .found(let claims, let caller):
            try Self.checkTime(claims, now: now)
            return caller
        case .absent(let current):
            generation = current
        }

        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
            let headerData = TokenBase64URL.decode(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw AuthenticationError(.malformedToken) }

        guard let alg = header.alg, TokenKeySet.acceptedAlgorithms.contains(alg) else {
            throw AuthenticationError(.algorithmNotAllowed)
        }
        // Extensions we do not understand must not be ignored (RFC 7515 §4.1.11).
        guard header.crit == nil else { throw AuthenticationError(.malformedToken) }
        guard let kid = header.kid else { throw AuthenticationError(.unknownKey) }
        let keys = keySet.withLock { $0 }
        guard keys.knows(kid: kid) else { throw AuthenticationError(.unknownKey) }
        guard let algorithm = keys.algorithm(kid: kid, alg: alg) else {
            throw AuthenticationError(.algorithmNotAllowed)
        }

        guard let signature = TokenBase64URL.decode(parts[2]), !signature.isEmpty else {
            throw AuthenticationError(.badSignature)
        }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard (try? algorithm.verify(signature, signs: signingInput)) == true else {
            throw AuthenticationError(.badSignature)
        }

        guard let payload = TokenBase64URL.decode(parts[1]) else { throw AuthenticationError(.malformedToken) }
        let claims = try Self.decodeClaims(payload)
        try Self.checkTime(claims, now: now)
        guard claims.iss.value == issuer else { throw AuthenticationError(.wrongIssuer) }
        guard claims.aud.value.contains(audience) else { throw AuthenticationError(.wrongAudience) }
        switch (actor, claims.act?.sub) {
        case (nil, nil): break
        case (nil, .some): throw AuthenticationError(.unexpectedActor)
        case (.some, nil): throw AuthenticationError(.missingClaim, claim: "act")
        case (let expected?, let named?): guard named == expected else { throw AuthenticationError(.wrongActor) }
        }
        var caller = try claims.caller()
        caller.viaGateway = actor
        verified.withLock { $0.insert(text, claims: claims, caller: caller, generation: generation, now: now) }
        return caller
    }

    private static func checkTime(_ claims: AccessClaims, now: Date) throws(AuthenticationError) {
        do {
            try claims.verifyTime(now: now)
        } catch let error as JWTError where error.failedClaim is NotBeforeClaim {
            throw AuthenticationError(.notYetValid)
        } catch {
            throw AuthenticationError(.expired)
        }
    }

    /// The `iss` a token claims, read without verifying anything: only to choose which verifier checks it
    /// (`TrustedIssuers`), which then verifies the signature and the issuer itself. Nil when there is none to read.
    public static func unverifiedIssuer(of bearer: String) -> String? {
        let token = stripScheme(bearer)
        guard token.utf8.count <= maximumTokenLength else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = TokenBase64URL.decode(parts[1]),
            let claims = try? JSONDecoder().decode(IssuerOnly.self, from: payload)
        else { return nil }
        return claims.iss
    }

    private struct IssuerOnly: Decodable {
        var iss: String?
    }

    static func stripScheme(_ bearer: String) -> Substring {
        // Spaces and tabs around the value, as HTTP's optional white space: a token is ASCII, and Foundation's
        // trimming (through NSString, for a token of hundreds of bytes on every request) cost 1 % of the gateway's
        // CPU in `perf`.
        let bytes = bearer.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { bytes.formIndex(after: &start) }
        while end > start {
            let before = bytes.index(before: end)
            guard bytes[before] == 0x20 || bytes[before] == 0x09 else { break }
            end = before
        }
        let trimmed = bearer[start..<end]
        // Only the scheme is lower-cased: the token is hundreds of bytes and arrives with every request.
        if trimmed.utf8.count == 6, trimmed.lowercased() == "bearer" { return "" }
        if trimmed.prefix(7).lowercased() == "bearer " {
            return trimmed.dropFirst(7).drop { $0 == " " }
        }
        return trimmed
    }

    private static func decodeClaims(_ payload: Data) throws(AuthenticationError) -> AccessClaims {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do {
            return try decoder.decode(AccessClaims.self, from: payload)
        } catch let DecodingError.keyNotFound(key, context) {
            throw AuthenticationError(.missingClaim, claim: claimName(context.codingPath + [key]))
        } catch let DecodingError.valueNotFound(_, context) {
            throw AuthenticationError(.missingClaim, claim: claimName(context.codingPath))
        } catch let DecodingError.typeMismatch(_, context) {
            throw AuthenticationError(.malformedClaim, claim: claimName(context.codingPath))
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw AuthenticationError(.malformedClaim, claim: claimName(context.codingPath))
        } catch {
            throw AuthenticationError(.malformedToken)
        }
    }

    /// Only names from `AccessClaims`' own coding keys reach an error, so nothing the token chose is echoed.
    private static func claimName(_ path: [any CodingKey]) -> String? {
        guard let first = path.first?.stringValue, AccessClaims.claimNames.contains(first) else { return nil }
        return first
    }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
        var crit: [String]?
    }
}

extension AccessClaims {
    static let claimNames: Set<String> = [
        "sub", "name", "org", "role", "purpose", "patient", "scope", "act", "iss", "aud", "exp", "nbf", "iat",
    ]

    /// An ODS organisation code: 3 to 12 upper-case letters and digits.
    static func isODSCode(_ text: String) -> Bool {
        (3...12).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    /// The NHS RBAC job role code: `R` and four digits, alone or as the last part of a CIS2 role profile
    /// code (`S8000:G8000:R8000`).
    static func jobRoleCode(_ text: String) -> String? {
        guard let last = text.split(separator: ":", omittingEmptySubsequences: false).last else { return nil }
        return RolePolicy.isRoleCode(String(last)) ? String(last) : nil
    }

    /// The identity claims' shape, beyond what decoding checked.
    func caller() throws(AuthenticationError) -> VerifiedCaller {
        for (claim, value) in [("sub", sub.value), ("name", name), ("org", org), ("role", role)]
        where value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw AuthenticationError(.missingClaim, claim: claim)
        }
        guard Self.isODSCode(org) else { throw AuthenticationError(.malformedClaim, claim: "org") }
        guard let roleCode = Self.jobRoleCode(role) else { throw AuthenticationError(.malformedClaim, claim: "role") }
        let scopes = Set((scope ?? "").split(separator: " ").map(String.init))
        return VerifiedCaller(
            userID: sub.value, name: name, organisation: org, role: roleCode, purpose: purpose,
            launchPatient: patient, scopes: scopes, expiresAt: exp.value)
    }
}

/// Tokens that passed every check but the clock, so a portal that sends the same token with each query pays for
/// the signature check once per token rather than once per query (the check was 5 % of the gateway's CPU under
/// load). Keyed by the whole token text, so only the very bytes that were verified match; issuer and audience are
/// fixed per verifier, and the time claims are checked again on every use. A key-set change empties it, and a
/// verification that began under the old keys is not added afterwards (the generation has moved on).
struct VerifiedTokens {
    enum Lookup {
        case found(AccessClaims, VerifiedCaller)
        case absent(generation: Int)
    }

    static let capacity = 10_000

    private var generation = 0
    private var entries: [String: (claims: AccessClaims, caller: VerifiedCaller)] = [:]

    func lookup(_ token: String) -> Lookup {
        if let entry = entries[token] { return .found(entry.claims, entry.caller) }
        return .absent(generation: generation)
    }

    mutating func insert(_ token: String, claims: AccessClaims, caller: VerifiedCaller, generation: Int, now: Date) {
        guard generation == self.generation else { return }
        if entries.count >= Self.capacity {
            entries = entries.filter { $0.value.claims.exp.value > now }
            // Still full of live tokens: start again rather than grow without bound.
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
        }
        entries[token] = (claims, caller)
    }

    mutating func reset() {
        generation += 1
        entries.removeAll()
    }

    var count: Int { entries.count }
}
