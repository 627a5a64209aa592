import Foundation
import Logging
import Policy
import Providers

/// Everything the edge needs to decide who may see what, and to record that they did: the token verifier,
/// the role policy, the opt-out registry and the audit trail. One per gateway process; the application closes
/// the stores when it stops.
public struct AccessControl: Sendable {
    /// The identity provider's verifier (its keys are the ones a JWKS URL refreshes).
    public let verifier: TokenVerifier
    /// Every issuer trusted: the identity provider, and the gateways this one federates with.
    public let trustedIssuers: TrustedIssuers
    public let rolePolicy: RolePolicy
    public let optOuts: any OptOutRegistry
    public let audit: any AuditTrail

    /// - Parameter gateways: verifiers for the gateways trusted to ask on their clinicians' behalf (each with
    ///   its `actor`), from `gatewayVerifiers(for:)`.
    public init(
        verifier: TokenVerifier, gateways: [TokenVerifier] = [], rolePolicy: RolePolicy, optOuts: any OptOutRegistry,
        audit: any AuditTrail
    ) {
        self.verifier = verifier
        self.trustedIssuers = TrustedIssuers(identityProvider: verifier, gateways: gateways)
        self.rolePolicy = rolePolicy
        self.optOuts = optOuts
        self.audit = audit
    }

    /// The two stores' locations for a configuration: one shared PostgreSQL, or one SQLite file each in the
    /// data directory (so each can be backed up and checked on its own).
    public static func storeLocations(_ configuration: GatewayConfiguration) -> (optOuts: StoreLocation, audit: StoreLocation) {
        if let url = configuration.storeURL { return (.postgres(url: url), .postgres(url: url)) }
        let folder = configuration.dataDirectory as NSString
        return (.sqlite(path: folder.appendingPathComponent(optOutFile)), .sqlite(path: folder.appendingPathComponent(auditFile)))
    }

    public static let optOutFile = "opt-outs.sqlite"
    public static let auditFile = "audit.sqlite"
    public static let providerChangesFile = "provider-changes.sqlite"

    /// Where provider changes made through the admin API are kept: the shared PostgreSQL store, or a SQLite file in
    /// the data directory beside the other two.
    public static func providerChangesLocation(_ configuration: GatewayConfiguration) -> StoreLocation {
        if let url = configuration.storeURL { return .postgres(url: url) }
        return .sqlite(path: (configuration.dataDirectory as NSString).appendingPathComponent(providerChangesFile))
    }

    /// Opens the role policy and both stores named by `configuration`, with `verifier` for tokens.
    /// On failure nothing stays open.
    public static func open(
        configuration: GatewayConfiguration, verifier: TokenVerifier, gateways: [TokenVerifier] = [], logger: Logger
    ) async throws(AccessControlError) -> AccessControl {
        let rolePolicy: RolePolicy
        do {
            rolePolicy = try RolePolicy(contentsOfFile: configuration.policyFile)
        } catch {
            throw AccessControlError("role policy refused: \(error)")
        }
        if configuration.storeURL == nil {
            do {
                try FileManager.default.createDirectory(
                    atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw AccessControlError("cannot create the data directory \(configuration.dataDirectory)")
            }
        }
        let locations = storeLocations(configuration)
        let optOuts: any OptOutRegistry
        do {
            optOuts = try await makeOptOutRegistry(locations.optOuts, logger: logger)
        } catch {
            throw AccessControlError("opt-out store \(locations.optOuts): \(error)")
        }
        do {
            let audit = try await makeAuditTrail(locations.audit, logger: logger)
            return AccessControl(
                verifier: verifier, gateways: gateways, rolePolicy: rolePolicy, optOuts: optOuts, audit: audit)
        } catch {
            await optOuts.shutdown()
            throw AccessControlError("audit store \(locations.audit): \(error)")
        }
    }

    /// A verifier for `auth`: the JWKS file read now, or the JWKS URL fetched now (refreshed by
    /// `JWKSRefreshService` after), waiting at most `timeout` for it.
    public static func verifier(
        for auth: AuthConfiguration, timeout: Duration = .seconds(10)
    ) async throws(AccessControlError) -> TokenVerifier {
        do {
            return try await verifier(
                keys: auth.keys, caFile: auth.jwksCAFile, issuer: auth.issuer, audience: auth.audience, actor: nil,
                timeout: timeout)
        } catch {
            throw AccessControlError("auth: \(error)")
        }
    }

    private static func verifier(
        keys: AuthConfiguration.KeySource, caFile: String?, issuer: String, audience: String, actor: String?,
        timeout: Duration
    ) async throws -> TokenVerifier {
        switch keys {
        case .file(let path):
            return try await TokenVerifier(jwksFile: path, issuer: issuer, audience: audience, actor: actor)
        case .url(let url, _):
            let document = try await JWKSRefreshService.fetch(url, trusting: caFile, timeout: timeout)
            return try await TokenVerifier(jwks: document, issuer: issuer, audience: audience, actor: actor)
        }
    }

    /// A verifier per gateway in `auth.gateways`, its JWKS read now (from its file, or fetched from its URL, which
    /// the application then refreshes); a gateway's token must carry this gateway's own `audience`.
    public static func gatewayVerifiers(
        for auth: AuthConfiguration, timeout: Duration = .seconds(10)
    ) async throws(AccessControlError) -> [TokenVerifier] {
        var verifiers: [TokenVerifier] = []
        for gateway in auth.gateways {
            do {
                verifiers.append(
                    try await verifier(
                        keys: gateway.keys, caFile: gateway.jwksCAFile, issuer: gateway.issuer, audience: auth.audience,
                        actor: gateway.id, timeout: timeout))
            } catch {
                throw AccessControlError("auth.gateways \(gateway.id): \(error)")
            }
        }
        return verifiers
    }

    /// Closes both stores; the application does this itself when it stops.
    public func shutdown() async {
        await optOuts.shutdown()
        await audit.shutdown()
    }
}

public struct AccessControlError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
