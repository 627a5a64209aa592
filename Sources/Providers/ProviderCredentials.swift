import Foundation
import NIOSSL

/// How the gateway meets an `https` provider's TLS (`tls:` in its file), for providers on a private PKI or
/// requiring mutual TLS, as NHS integration engines often do.
///
/// Keys (all optional; paths are relative to the provider file's folder):
/// - `ca_file`: PEM certificates of the CAs trusted for this provider, **instead of** the system's roots, so
///   that only the provider's own PKI can vouch for it. Without it, the system's roots are trusted.
/// - `certificate_file` and `key_file` (together): the gateway's client certificate chain and its private key
///   (PEM), presented when the provider asks for one.
///
/// The files are read and checked when the provider is loaded (a reload reads them again, so a renewed
/// certificate is picked up by SIGHUP); a file that cannot be read or holds no PEM of the right kind stops the
/// load with a message naming the key and the file, never its content. TLS 1.2 or later; the provider's
/// certificate is always verified, its name against the URL's host.
public struct ProviderTLS: Sendable, Hashable {
    /// The `ca_file` path as resolved, if given.
    public private(set) var caFile: String?
    /// The `certificate_file` path as resolved, if given.
    public private(set) var certificateFile: String?
    /// The `key_file` path as resolved, if given.
    public private(set) var keyFile: String?

    private var trustRoots: [NIOSSLCertificate]?
    private var certificateChain: [NIOSSLCertificate] = []
    private var privateKey: ProviderSecret<NIOSSLPrivateKey>?

    static let keys: Set<String> = ["ca_file", "certificate_file", "key_file"]

    init(_ fields: YAMLFields, resolve: ProviderFileResolver) throws(ConfigurationError) {
        if let path = try resolve.path(of: "ca_file", in: fields) {
            caFile = path
            trustRoots = try Self.certificates(in: path, key: "ca_file", fields: fields)
        }
        let certificatePath = try resolve.path(of: "certificate_file", in: fields)
        let keyPath = try resolve.path(of: "key_file", in: fields)
        switch (certificatePath, keyPath) {
        case (let certificatePath?, let keyPath?):
            certificateFile = certificatePath
            keyFile = keyPath
            certificateChain = try Self.certificates(in: certificatePath, key: "certificate_file", fields: fields)
            let bytes = try fields.contents(ofFile: keyPath, key: "key_file")
            do {
                privateKey = ProviderSecret(try NIOSSLPrivateKey(bytes: bytes, format: .pem))
            } catch {
                throw fields.error("key_file", "\(keyPath) holds no PEM private key (an encrypted key is not read)")
            }
            // The pair is checked now rather than at the first query: a key for another certificate would
            // otherwise fail every handshake with nothing to say why.
            do {
                _ = try NIOSSLContext(configuration: configuration())
            } catch {
                throw fields.error("key_file", "\(keyPath) is not the private key of the certificate in \(certificatePath)")
            }
        case (nil, nil):
            break
        case (nil, _):
            throw fields.error("certificate_file", "missing (key_file needs the certificate it belongs to)")
        case (_, nil):
            throw fields.error("key_file", "missing (certificate_file needs its private key)")
        }
    }

    /// The client side of TLS for this provider.
    public func configuration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let trustRoots { configuration.trustRoots = .certificates(trustRoots) }
        if let privateKey {
            configuration.certificateChain = certificateChain.map { .certificate($0) }
            configuration.privateKey = .privateKey(privateKey.value)
        }
        return configuration
    }

    /// Whether the gateway presents a client certificate (mutual TLS).
    public var presentsClientCertificate: Bool { privateKey != nil }

    /// When the client certificate chain the gateway presents stops being valid (its earliest `notAfter`), if it
    /// presents one: past it, the provider refuses every handshake.
    public var clientCertificateExpiry: Date? {
        guard privateKey != nil else { return nil }
        return certificateChain.map { Date(timeIntervalSince1970: TimeInterval($0.notValidAfter)) }.min()
    }

    private static func certificates(in path: String, key: String, fields: YAMLFields) throws(ConfigurationError)
        -> [NIOSSLCertificate]
    {
        let bytes = try fields.contents(ofFile: path, key: key)
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(bytes), !certificates.isEmpty else {
            throw fields.error(key, "\(path) holds no PEM certificate")
        }
        return certificates
    }
}

extension YAMLFields {
    /// The bytes of a file a key names (resolved); the error names the key and the path, never the content.
    func contents(ofFile path: String, key: String) throws(ConfigurationError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw error(key, "cannot read \(path)") }
        return [UInt8](data)
    }
}

/// How the gateway proves itself to a provider that wants a token (`auth:` in its file): one of
/// - `bearer_token_file`: an access token sent with every request, read from its file (one line; surrounding white
///   space ignored) when the provider is loaded, so that it stays out of the provider file and can come from a
///   mounted secret;
/// - `on_behalf_of` (mapping; `kind: gateway` only): a token signed for each request that carries the clinician's
///   claims, for another CareGate gateway (see `OnBehalfOfSigner`).
public struct ProviderAuth: Sendable, Hashable {
    /// The `bearer_token_file` path as resolved, for a static token.
    public private(set) var bearerTokenFile: String?
    /// The signer, for a provider that is another gateway.
    public private(set) var onBehalfOf: OnBehalfOfSigner?
    private var token: ProviderSecret<String>?

    static let keys: Set<String> = ["bearer_token_file", "on_behalf_of"]

    init(_ fields: YAMLFields, resolve: ProviderFileResolver) throws(ConfigurationError) {
        if let node = fields.value("on_behalf_of") {
            guard !fields.has("bearer_token_file") else {
                throw fields.error("bearer_token_file", "give bearer_token_file or on_behalf_of, not both")
            }
            let signer = try YAMLFields(
                node, file: fields.file, path: fields.path + ".on_behalf_of", allowedKeys: OnBehalfOfSigner.keys)
            onBehalfOf = try OnBehalfOfSigner(signer, resolve: resolve)
            return
        }
        let path = try resolve.path(of: "bearer_token_file", in: fields, required: true)!
        bearerTokenFile = path
        let bytes = try fields.contents(ofFile: path, key: "bearer_token_file")
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // RFC 6750's b64token: what may follow "Bearer " in a header. Anything else (a second line, a space, a
        // PEM block) means the wrong file, and is said without quoting it.
        guard !text.isEmpty, text.utf8.count <= 8192, Self.isBearerToken(text) else {
            throw fields.error(
                "bearer_token_file", "\(path) does not hold one bearer token (letters, digits, -._~+/ then any =)")
        }
        token = ProviderSecret(text)
    }

    /// The `Authorization` header's value for one request: the static token, or one signed now for the clinician
    /// the current query is for (`OnBehalfOf.current`), which it must have.
    func authorization() async throws(ProviderFailure) -> String {
        if let token { return "Bearer " + token.value }
        guard let onBehalfOf else { preconditionFailure("auth holds a token or a signer") }
        guard let caller = OnBehalfOf.current else {
            throw .error("no clinician to ask for: a gateway is asked only on behalf of a query's caller")
        }
        do {
            return "Bearer " + (try await onBehalfOf.token(for: caller))
        } catch {
            throw .error("the on-behalf-of token could not be signed")
        }
    }

    static func isBearerToken(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let padding = bytes.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        let body = bytes.dropLast(padding)
        return !body.isEmpty && body.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default: "-._~+/".utf8.contains(byte)
            }
        }
    }
}

/// A credential held in memory: compared and hashed by value (a renewed one makes a different definition), and
/// never printed, so that logging a provider definition cannot leak it.
struct ProviderSecret<Value: Hashable & Sendable>: Sendable, Hashable, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable
{
    let value: Value

    init(_ value: Value) {
        self.value = value
    }

    var description: String { "<secret>" }
    var debugDescription: String { "<secret>" }
    var customMirror: Mirror { Mirror(self, children: []) }
}

extension ProviderDefinition {
    /// What the gateway trusts and presents for this provider, in lines for a provider team (`providers check`):
    /// file names and dates only, never a key or a token.
    public func credentialSummary(now: Date = Date()) -> [String] {
        var lines: [String] = []
        if urlTemplate.lowercased().hasPrefix("https://") {
            lines.append("tls: trusts " + (tls?.caFile.map { "the CAs in \($0) only" } ?? "the system's CAs"))
        }
        if let tls, let file = tls.certificateFile, let expiry = tls.clientCertificateExpiry {
            let days = Int(now.distance(to: expiry) / 86_400)
            let date = expiry.formatted(.iso8601.year().month().day())
            let warning =
                expiry <= now ? " — EXPIRED: the provider will refuse every handshake"
                : days < 14 ? " — renew it now" : ""
            lines.append("tls: presents the client certificate in \(file), valid until \(date) (\(days) days)\(warning)")
        }
        if let file = auth?.bearerTokenFile { lines.append("auth: a bearer token from \(file)") }
        if let signer = auth?.onBehalfOf {
            lines.append(
                "auth: a token for each query's clinician, signed with \(signer.keyFile) (kid \(signer.keyID)) as "
                    + "\(signer.actor) for audience \(signer.audience)")
        }
        return lines
    }
}
