import Foundation
import Providers

/// How a gateway runs. Every field has a documented default, and a YAML config file may set any of them:
///
/// - `host` (text, default `127.0.0.1`): address to listen on
/// - `port` (0–65535, default 8080; 0 picks a free port)
/// - `providers` (path, default `providers`): folder of provider definition files; relative to the config file
/// - `deadline_ms` (1–60000, default 2000): how long a query may take in all; providers that have not answered
///   by then are reported `timeout`
/// - `data_dir` (path, default `data`): where the gateway keeps its own state (never clinical data);
///   relative to the config file
/// - `policy` (path, default `deploy/policy.yaml`): the role policy; relative to the config file
/// - `provider_credentials` (path, optional): the folder of provider TLS and token files; a provider registered
///   through the admin API may name files only there and in `providers` (see `ProviderFileAccess`)
/// - `schemas` (path, default `schemas`): CareGate's XSDs, which `POST /admin/providers/{id}/check` validates a
///   provider's answers against (FHIR R4 and CDA R2; a mapped provider names its own with `schema:`)
/// - `auth` (mapping, required by `serve`): the identity provider whose tokens are trusted —
///   `jwks_file` (path) or `jwks_url` (https URL, re-fetched every `jwks_refresh_s`, default 300; `jwks_ca_file`:
///   the CAs trusted for it instead of the system's),
///   `issuer` (the exact `iss`), `audience` (a value `aud` must hold, default `caregate`), `gateways` (a list of
///   other CareGate gateways trusted to ask on their clinicians' behalf: `id`, `issuer`, and `jwks_file` or
///   `jwks_url` as above; see `FederatedGateway`)
/// - `tls` (mapping, optional): HTTPS at the gateway itself, and mutual TLS — `certificate_file`, `key_file`,
///   `client_ca_file`; see `GatewayTLS`. Without it the gateway serves plain HTTP (behind a TLS-terminating proxy)
/// - `store` (mapping): `url: postgres://user:password@host:port/database` to share opt-outs and the audit
///   trail between replicas; without it, SQLite files in `data_dir`
/// - `audit_disclosure` (`with-answer` or `after-answer`, default `with-answer`): when the record of what a query
///   disclosed is committed; see `AuditDisclosureTiming`
/// - `executor` (`swift` or `event-loops`, default `swift`): which threads run the gateway's async work; see
///   `TaskExecutorChoice`
public struct GatewayConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var providersDirectory: String
    public var deadlineMilliseconds: Int
    public var dataDirectory: String
    public var policyFile: String
    /// The folder of provider credential files (`provider_credentials`); nil when none is configured.
    public var providerCredentialsDirectory: String?
    /// CareGate's XSDs (`schemas`), for the admin API's provider check.
    public var schemasDirectory: String = "schemas"
    public var auth: AuthConfiguration?
    /// HTTPS at the gateway itself (`tls`); nil: plain HTTP.
    public var tls: GatewayTLS?
    /// A `postgres://` URL; nil keeps the stores in SQLite files in `dataDirectory`.
    public var storeURL: String?
    public var auditDisclosure: AuditDisclosureTiming
    public var executor: TaskExecutorChoice

    public init(
        host: String = "127.0.0.1", port: Int = 8080, providersDirectory: String = "providers",
        deadlineMilliseconds: Int = 2000, dataDirectory: String = "data", policyFile: String = "deploy/policy.yaml",
        auth: AuthConfiguration? = nil, storeURL: String? = nil, auditDisclosure: AuditDisclosureTiming = .withAnswer,
        executor: TaskExecutorChoice = .swift
    ) {
        self.host = host
        self.port = port
        self.providersDirectory = providersDirectory
        self.deadlineMilliseconds = deadlineMilliseconds
        self.dataDirectory = dataDirectory
        self.policyFile = policyFile
        self.auth = auth
        self.storeURL = storeURL
        self.auditDisclosure = auditDisclosure
        self.executor = executor
    }

    static let keys: Set<String> = [
        "host", "port", "providers", "deadline_ms", "data_dir", "policy", "auth", "store", "audit_disclosure",
        "executor", "provider_credentials", "tls", "schemas",
    ]

    /// Reads a config file. Paths in it are taken relative to the file's folder.
    public init(file path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigurationError(file: path, problem: "cannot read the config file")
        }
        let fields = try YAMLFields(yaml: text, file: path, allowedKeys: Self.keys)
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") || folder.isEmpty ? relative : (folder as NSString).appendingPathComponent(relative)
        }
        let defaults = GatewayConfiguration()
        self.init(
            host: try fields.string("host", required: false) ?? defaults.host,
            port: try fields.integer("port", in: 0...65535, required: false) ?? defaults.port,
            providersDirectory: resolve(try fields.string("providers", required: false) ?? defaults.providersDirectory),
            deadlineMilliseconds: try fields.integer("deadline_ms", in: 1...60_000, required: false)
                ?? defaults.deadlineMilliseconds,
            dataDirectory: resolve(try fields.string("data_dir", required: false) ?? defaults.dataDirectory),
            policyFile: resolve(try fields.string("policy", required: false) ?? defaults.policyFile))
        providerCredentialsDirectory = try fields.string("provider_credentials", required: false).map(resolve)
        schemasDirectory = resolve(try fields.string("schemas", required: false) ?? defaults.schemasDirectory)
        if let node = fields.value("auth") {
            auth = try AuthConfiguration(YAMLFields(node, file: path, path: "auth", allowedKeys: AuthConfiguration.keys),
                                         resolve: resolve)
        }
        if let node = fields.value("tls") {
            tls = try GatewayTLS(YAMLFields(node, file: path, path: "tls", allowedKeys: GatewayTLS.keys), resolve: resolve)
        }
        if let node = fields.value("store") {
            let store = try YAMLFields(node, file: path, path: "store", allowedKeys: ["url"])
            let url = try store.string("url") ?? ""
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw store.error("url", "expected a postgres:// URL (leave `store` out to use SQLite in data_dir)")
            }
            storeURL = url
        }
        if let timing = try fields.string("audit_disclosure", required: false) {
            guard let parsed = AuditDisclosureTiming(rawValue: timing) else {
                throw fields.error(
                    "audit_disclosure",
                    "expected one of: " + AuditDisclosureTiming.allCases.map(\.rawValue).joined(separator: ", "))
            }
            auditDisclosure = parsed
        }
        if let choice = try fields.string("executor", required: false) {
            guard let parsed = TaskExecutorChoice(rawValue: choice) else {
                throw fields.error(
                    "executor", "expected one of: " + TaskExecutorChoice.allCases.map(\.rawValue).joined(separator: ", "))
            }
            executor = parsed
        }
    }
}

/// Which threads run the gateway's async work (request handlers, the fan-out, decoding and merging).
///
/// By default Swift's tasks run on a pool of their own threads, and every hop to or from I/O — a provider's answer
/// arriving, the response being written — is a switch to one of SwiftNIO's event-loop threads and back. With
/// `event-loops`, SwiftNIO's event loops are installed as Swift's global executor when the process starts, so a
/// task resumed by I/O mostly runs on the thread that did the I/O.
///
/// A trade, measured with `caregate bench e2e` on a 2-core machine (interleaved runs, README "Speed"):
/// `event-loops` answered 10–26 % more queries/s at saturation with 13–24 % less CPU per query and less memory,
/// but under the open-loop load with slow providers its latency was worse — decoding and merging now run on the
/// threads that also read every other query's provider answers, so those wait behind them (overhead p50 about
/// 0.3 ms higher over four interleaved pairs). A clinician waiting matters more than peak
/// throughput, so `swift` is the default; `event-loops` suits a gateway sized by CPU rather than by latency.
/// Process-wide and made before anything else runs, so read from the command line and config file at start-up.
public enum TaskExecutorChoice: String, Sendable, Equatable, CaseIterable {
    /// Swift's own cooperative pool runs tasks; I/O stays on the event loops.
    case swift
    /// SwiftNIO's event loops run Swift's tasks (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`).
    case eventLoops = "event-loops"
}

/// When the record of what a records query disclosed is made durable. Either way nothing leaves the gateway before
/// the access itself — who, in what role and organisation, for which patient, why, the decision, the providers
/// asked — is committed to the audit trail; and either way both facts end up in the one hash chain.
public enum AuditDisclosureTiming: String, Sendable, Equatable, CaseIterable {
    /// One record per query — the access plus each provider's outcome and the entries per category — committed
    /// after the merge and before the answer is sent. Its commit (an fsync) sits on every query's critical path,
    /// after the slowest provider has answered.
    case withAnswer = "with-answer"
    /// Two records per query. The access record is committed while the providers are being asked (it has their
    /// whole latency to do so) and must be durable before the answer is sent, or the answer is 503; the disclosure
    /// record (reason `disclosed`: outcomes and entries per category, same request id) is committed right after
    /// the answer is handed over. A crash in that instant leaves an access with no disclosure detail — which the
    /// trail shows, never hides. DESIGN.md's request path (audit intent, then outcome after responding).
    case afterAnswer = "after-answer"
}

/// The identity provider whose bearer tokens the gateway trusts (config `auth`).
public struct AuthConfiguration: Sendable, Equatable {
    public enum KeySource: Sendable, Equatable {
        /// A JWKS document on disk, read at start.
        case file(String)
        /// A JWKS URL, fetched at start (the gateway does not start without it) and every `refresh` after.
        case url(String, refresh: Duration)
    }

    public var keys: KeySource
    public var issuer: String
    public var audience: String
    /// PEM certificates of the CAs trusted for `jwks_url`, instead of the system's roots (`jwks_ca_file`): an
    /// identity provider on a private PKI. Nil: the system's roots.
    public var jwksCAFile: String?

    /// Other CareGate gateways that may ask on behalf of their own clinicians (`gateways`): federation.
    public var gateways: [FederatedGateway]

    public init(
        keys: KeySource, issuer: String, audience: String = "caregate", jwksCAFile: String? = nil,
        gateways: [FederatedGateway] = []
    ) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.jwksCAFile = jwksCAFile
        self.gateways = gateways
    }

    static let keys: Set<String> = [
        "jwks_file", "jwks_url", "jwks_refresh_s", "jwks_ca_file", "issuer", "audience", "gateways",
    ]

    init(_ fields: YAMLFields, resolve: (String) -> String) throws(ConfigurationError) {
        (keys, jwksCAFile) = try Self.keySource(fields, resolve: resolve)
        guard let issuer = try fields.string("issuer") else { throw fields.error("issuer", "missing (required)") }
        self.issuer = issuer
        audience = try fields.string("audience", required: false) ?? "caregate"
        gateways = []
        if let node = fields.value("gateways") {
            guard let sequence = node.sequence else { throw fields.error("gateways", "expected a list") }
            for (index, item) in sequence.enumerated() {
                let item = try YAMLFields(
                    item, file: fields.file, path: "auth.gateways[\(index)]", allowedKeys: FederatedGateway.keys)
                let gateway = try FederatedGateway(item, resolve: resolve)
                guard gateway.issuer != issuer, !gateways.contains(where: { $0.issuer == gateway.issuer }) else {
                    throw fields.error("gateways", "gateways[\(index)]: issuer \(gateway.issuer) is already trusted")
                }
                guard !gateways.contains(where: { $0.id == gateway.id }) else {
                    throw fields.error("gateways", "gateways[\(index)]: id \(gateway.id) is given twice")
                }
                gateways.append(gateway)
            }
        }
    }

    /// The keys' source — `jwks_file`, or `jwks_url` with `jwks_refresh_s` — and `jwks_ca_file`: the same keys for
    /// the identity provider and for each gateway in `gateways`.
    static func keySource(_ fields: YAMLFields, resolve: (String) -> String) throws(ConfigurationError)
        -> (KeySource, caFile: String?)
    {
        let keys: KeySource
        var jwksCAFile: String?
        let file = try fields.string("jwks_file", required: false)
        let url = try fields.string("jwks_url", required: false)
        let refresh = try fields.integer("jwks_refresh_s", in: 10...86_400, required: false) ?? 300
        switch (file, url) {
        case (let file?, nil):
            keys = .file(resolve(file))
        case (nil, let url?):
            guard let parsed = URL(string: url), ["https", "http"].contains(parsed.scheme ?? ""), parsed.host != nil
            else { throw fields.error("jwks_url", "expected an https:// URL") }
            keys = .url(url, refresh: .seconds(refresh))
        case (.some, .some):
            throw fields.error("jwks_url", "give jwks_file or jwks_url, not both")
        case (nil, nil):
            throw fields.error("jwks_file", "missing: give jwks_file or jwks_url")
        }
        if let caFile = try fields.string("jwks_ca_file", required: false) {
            guard url != nil else { throw fields.error("jwks_ca_file", "only with jwks_url") }
            let path = resolve(caFile)
            // Read now, so a wrong file stops the start with its name rather than every fetch failing.
            do {
                _ = try JWKSRefreshService.trustRoots(in: path)
            } catch {
                throw fields.error("jwks_ca_file", "\(path) holds no PEM certificate the gateway can read")
            }
            jwksCAFile = path
        }
        return (keys, jwksCAFile)
    }
}

/// Another CareGate gateway trusted to ask on behalf of its own clinicians (config `auth.gateways`): a regional
/// hub, say, that registered this gateway as a provider. Its tokens carry its clinician's claims, are signed with
/// its own key, and name it in `act`; this gateway applies its own opt-outs, relationship and role policy to them,
/// audits the clinician with the gateway they came through, and never passes them on to a gateway of its own.
///
/// Keys: `id` (the gateway's name, as its tokens' `act.sub`), `issuer` (its tokens' `iss`), and its public keys as
/// for the identity provider: `jwks_file`, or `jwks_url` (re-fetched every `jwks_refresh_s`, so a key the gateway
/// rotates in is trusted without a restart) with an optional `jwks_ca_file`.
public struct FederatedGateway: Sendable, Equatable {
    public var id: String
    public var issuer: String
    public var keys: AuthConfiguration.KeySource
    public var jwksCAFile: String?

    public init(id: String, issuer: String, keys: AuthConfiguration.KeySource, jwksCAFile: String? = nil) {
        self.id = id
        self.issuer = issuer
        self.keys = keys
        self.jwksCAFile = jwksCAFile
    }

    static let keys: Set<String> = ["id", "issuer", "jwks_file", "jwks_url", "jwks_refresh_s", "jwks_ca_file"]

    init(_ fields: YAMLFields, resolve: (String) -> String) throws(ConfigurationError) {
        id = try fields.string("id")!
        issuer = try fields.string("issuer")!
        (keys, jwksCAFile) = try AuthConfiguration.keySource(fields, resolve: resolve)
    }
}
