import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Providers
import Synchronization

/// HTTPS at the gateway itself (config `tls`), for a gateway no TLS-terminating proxy stands in front of — one
/// replica on one machine, or a link between regions' gateways — and, with `client_ca_file`, mutual TLS: only a
/// client presenting a certificate from those CAs gets as far as its bearer token being read.
///
/// Keys (paths relative to the config file): `certificate_file` (the gateway's certificate chain, PEM), `key_file`
/// (its private key, PEM, not encrypted), `client_ca_file` (optional: the CAs whose client certificates are required).
/// The files are read and checked at start, so a wrong one stops the start naming the key and the file; TLS 1.2 or
/// later. A renewed certificate and key are read again on SIGHUP (`reloadCertificate()`) and presented from the next
/// handshake on, without a restart; a new client CA still takes one.
public struct GatewayTLS: Sendable, Equatable {
    public let certificateFile: String
    public let keyFile: String
    public let clientCAFile: String?
    /// The server side of TLS. Its certificate and key are those read at start; once `reloadCertificate()` has
    /// read others, each handshake presents those instead.
    public let configuration: TLSConfiguration
    /// The certificate and key read last, shared by every copy of this value and by the handshake callback.
    private let identity: ServerIdentity
    /// The config file `tls` is in, for a reload's errors.
    private let source: String
    /// The server: HTTP/1.1 inside TLS.
    let server: HTTPServerBuilder

    static let keys: Set<String> = ["certificate_file", "key_file", "client_ca_file"]

    init(_ fields: YAMLFields, resolve: (String) -> String) throws(ConfigurationError) {
        certificateFile = resolve(try fields.string("certificate_file")!)
        keyFile = resolve(try fields.string("key_file")!)
        clientCAFile = try fields.string("client_ca_file", required: false).map(resolve)
        source = fields.file
        let pair = try Self.readPair(certificateFile: certificateFile, keyFile: keyFile, source: source, fields: fields)
        identity = ServerIdentity(pair)
        configuration = try Self.configuration(
            pair, identity: identity, clientCAFile: clientCAFile, source: source, fields: fields)
        server = try Self.server(configuration, fields: fields)
    }

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        source = "tls"
        let pair = try Self.readPair(certificateFile: certificateFile, keyFile: keyFile, source: source, fields: nil)
        identity = ServerIdentity(pair)
        configuration = try Self.configuration(
            pair, identity: identity, clientCAFile: clientCAFile, source: source, fields: nil)
        server = try Self.server(configuration, fields: nil)
    }

    /// Whether clients must present a certificate (mutual TLS).
    public var requiresClientCertificate: Bool { clientCAFile != nil }

    /// When the certificate the gateway presents stops being valid (the earliest `notAfter` in its chain).
    public var certificateExpiry: Date { identity.current.expiry }

    /// Reads `certificate_file` and `key_file` again (a renewed certificate) and presents them from the next
    /// handshake on; connections already open keep theirs. Files that cannot be read, or a key that is not the
    /// certificate's, change nothing: the error names the key and the file, and the certificate in use stays.
    /// - Returns: the new certificate's expiry.
    @discardableResult
    public func reloadCertificate() throws(ConfigurationError) -> Date {
        let pair = try Self.readPair(certificateFile: certificateFile, keyFile: keyFile, source: source, fields: nil)
        identity.replace(with: pair)
        return pair.expiry
    }

    private static func server(_ configuration: TLSConfiguration, fields: YAMLFields?) throws(ConfigurationError)
        -> HTTPServerBuilder
    {
        do {
            return try .tls(.http1(), tlsConfiguration: configuration)
        } catch {
            throw fields?.error("certificate_file", "TLS cannot be set up: \(error)")
                ?? ConfigurationError(file: "tls", key: "certificate_file", problem: "TLS cannot be set up: \(error)")
        }
    }

    public static func == (lhs: GatewayTLS, rhs: GatewayTLS) -> Bool {
        (lhs.certificateFile, lhs.keyFile, lhs.clientCAFile) == (rhs.certificateFile, rhs.keyFile, rhs.clientCAFile)
    }

    /// Names the config file and key, with the line when the config is being read (`fields`), not reloaded.
    private static func refused(_ key: String, _ problem: String, _ source: String, _ fields: YAMLFields?)
        -> ConfigurationError
    {
        fields?.error(key, problem) ?? ConfigurationError(file: source, key: "tls." + key, problem: problem)
    }

    private static func certificates(_ path: String, key: String, source: String, fields: YAMLFields?)
        throws(ConfigurationError) -> [NIOSSLCertificate]
    {
        guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
            throw refused(key, "\(path) holds no PEM certificate the gateway can read", source, fields)
        }
        return certificates
    }

    /// The certificate chain and its key from the files, checked to belong together: a key for another certificate
    /// would otherwise fail every handshake.
    private static func readPair(certificateFile: String, keyFile: String, source: String, fields: YAMLFields?)
        throws(ConfigurationError) -> ServerIdentity.Pair
    {
        let chain = try certificates(certificateFile, key: "certificate_file", source: source, fields: fields)
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw refused("key_file", "\(keyFile) holds no PEM private key (an encrypted key is not read)", source, fields)
        }
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)))
        } catch {
            throw refused("key_file", "\(keyFile) is not the private key of the certificate in \(certificateFile)", source, fields)
        }
        return ServerIdentity.Pair(chain: chain, key: privateKey)
    }

    private static func configuration(
        _ pair: ServerIdentity.Pair, identity: ServerIdentity, clientCAFile: String?, source: String,
        fields: YAMLFields?
    ) throws(ConfigurationError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: pair.chain.map { .certificate($0) }, privateKey: .privateKey(pair.key))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCAFile {
            configuration.trustRoots = .certificates(try certificates(clientCAFile, key: "client_ca_file", source: source, fields: fields))
            configuration.certificateVerification = .noHostnameVerification
        }
        // Asked at every handshake; until a reload it changes nothing, so the context's own pair is used.
        configuration.sslContextCallback = { [identity] _, promise in
            promise.succeed(identity.handshakeOverride)
        }
        return configuration
    }
}

/// The certificate and key the gateway presents, replaced whole by a reload.
final class ServerIdentity: Sendable {
    struct Pair: Sendable {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey

        var expiry: Date {
            chain.map { Date(timeIntervalSince1970: TimeInterval($0.notValidAfter)) }.min() ?? .distantPast
        }
    }

    private struct State {
        var pair: Pair
        /// What each handshake is told: no change until the first reload.
        var override: NIOSSLContextConfigurationOverride = .noChanges
    }

    private let state: Mutex<State>

    init(_ pair: Pair) {
        state = Mutex(State(pair: pair))
    }

    var current: Pair { state.withLock { $0.pair } }

    var handshakeOverride: NIOSSLContextConfigurationOverride { state.withLock { $0.override } }

    func replace(with pair: Pair) {
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = pair.chain.map { .certificate($0) }
        override.privateKey = .privateKey(pair.key)
        state.withLock { $0 = State(pair: pair, override: override) }
    }
}
