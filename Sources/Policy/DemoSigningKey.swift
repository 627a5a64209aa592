import Foundation
import JWTKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The demo's own identity provider: one ES256 key pair per data directory, so `caregate token` can mint
/// tokens that `caregate demo` trusts. Never trusted by `serve` unless its JWKS is configured explicitly.
///
/// The private key lives in `<data>/demo-signing-key.pem`, mode 0600, created on first use and reused after.
public struct DemoSigningKey: Sendable {
    public static let issuer = "caregate-demo"
    public static let audience = "caregate"
    public static let fileName = "demo-signing-key.pem"

    /// The PEM file holding the private key.
    public let path: String
    /// The `kid` tokens carry; derived from the public key, so a new key never reuses an old id.
    public let keyID: String
    private let privateKey: ES256PrivateKey

    /// Loads the key from `dataDirectory`, creating the directory and the key if missing.
    public init(dataDirectory: String) throws(DemoSigningKeyError) {
        try self.init(keyFile: (dataDirectory as NSString).appendingPathComponent(Self.fileName))
    }

    /// Loads the key in `path`, creating its folder (0700) and the key (0600) if missing. Also how a gateway keeps
    /// the key it signs on-behalf-of tokens with (federation, `caregate gateway-key`).
    /// - Parameter keyID: the `kid`; by default derived from the public key, so a new key never reuses an old id.
    public init(keyFile path: String, keyID: String? = nil) throws(DemoSigningKeyError) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: folder.isEmpty ? "." : folder, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw DemoSigningKeyError("cannot create the folder \(folder)")
        }
        let key = try Self.loadOrCreate(path: path)
        self.path = path
        self.privateKey = key
        self.keyID = keyID ?? "caregate-demo-" + String((key.parameters?.x ?? "").prefix(16))
    }

    /// The public half as a JSON Web Key Set, for `TokenVerifier(jwks:issuer:audience:)`.
    public var jwksJSON: String {
        let parameters = privateKey.publicKey.parameters
        let key: [String: String] = [
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": keyID,
            "x": parameters?.x ?? "", "y": parameters?.y ?? "",
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(["keys": [key]])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A verifier that trusts this key with the demo issuer and audience.
    public func verifier() async throws(KeySetError) -> TokenVerifier {
        try await TokenVerifier(jwks: jwksJSON, issuer: Self.issuer, audience: Self.audience)
    }

    /// Signs claims as a compact JWS (`ES256`, this key's `kid`).
    public func sign(_ claims: some JWTPayload) async throws -> String {
        let keys = JWTKeyCollection()
        let kid = JWKIdentifier(string: keyID)
        await keys.add(ecdsa: privateKey, kid: kid)
        return try await keys.sign(claims, kid: kid)
    }

    private static func loadOrCreate(path: String) throws(DemoSigningKeyError) -> ES256PrivateKey {
        if let existing = try read(path: path) { return existing }
        let key = ES256PrivateKey()
        // Written to a private temporary file, then linked into place: a concurrent `caregate token` either
        // wins the link or reads the winner's complete file, never a half-written one.
        let temporary = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw DemoSigningKeyError("cannot create \(path)") }
        defer { unlink(temporary) }
        let bytes = Array(key.pemRepresentation.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, synced == 0 else { throw DemoSigningKeyError("cannot write \(path)") }
        if link(temporary, path) != 0 {
            guard errno == EEXIST, let winner = try read(path: path) else {
                throw DemoSigningKeyError("cannot create \(path)")
            }
            return winner
        }
        return key
    }

    /// The key at `path`, or nil if there is no file. A file others may read is refused, not silently used.
    private static func read(path: String) throws(DemoSigningKeyError) -> ES256PrivateKey? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw DemoSigningKeyError("cannot read \(path)")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw DemoSigningKeyError("\(path) is readable by other users; run `chmod 600 \(path)`")
        }
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8),
            let key = try? ES256PrivateKey(pem: pem)
        else { throw DemoSigningKeyError("\(path) does not hold an ES256 (P-256) private key in PEM form") }
        return key
    }
}

public struct DemoSigningKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
