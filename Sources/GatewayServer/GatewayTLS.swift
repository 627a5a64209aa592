import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
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
/// later. On SIGHUP (`reload()`) all three are read again — a renewed certificate and key, a client CA added or
/// retired — and each new connection is served with them, without a restart.
public struct GatewayTLS: Sendable, Equatable {
    public let certificateFile: String
    public let keyFile: String
    public let clientCAFile: String?
    /// What the files held when last read, and the TLS context made from them, shared by every copy of this value
    /// and by the server's connections.
    private let identity: ServerIdentity
    /// The config file `tls` is in, for a reload's errors.
    private let source: String
    /// The server: HTTP/1.1 inside TLS, each connection with the context in use when it arrives.
    let server: HTTPServerBuilder

    static let keys: Set<String> = ["certificate_file", "key_file", "client_ca_file"]

    init(_ fields: YAMLFields, resolve: (String) -> String) throws(ConfigurationError) {
        certificateFile = resolve(try fields.string("certificate_file")!)
        keyFile = resolve(try fields.string("key_file")!)
        clientCAFile = try fields.string("client_ca_file", required: false).map(resolve)
        source = fields.file
        identity = ServerIdentity(
            try Self.read(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile, source: source, fields: fields))
        server = Self.server(identity)
    }

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        source = "tls"
        identity = ServerIdentity(
            try Self.read(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile, source: source, fields: nil))
        server = Self.server(identity)
    }

    /// Whether clients must present a certificate (mutual TLS).
    public var requiresClientCertificate: Bool { clientCAFile != nil }

    /// When the certificate the gateway presents stops being valid (the earliest `notAfter` in its chain).
    public var certificateExpiry: Date { identity.current.expiry }

    /// Reads `certificate_file`, `key_file` and `client_ca_file` again (a renewed certificate, a client CA added or
    /// retired) and serves each new connection with them; connections already open keep theirs. Files that cannot
    /// be read, or a key that is not the certificate's, change nothing: the error names the key and the file, and
    /// what is in use stays.
    /// - Returns: the certificate's expiry.
    @discardableResult
    public func reload() throws(ConfigurationError) -> Date {
        let identity = try Self.read(
            certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile, source: source, fields: nil)
        self.identity.replace(with: identity)
        return identity.expiry
    }

    /// Each connection gets TLS from the context in use when it arrives, then HTTP/1.1 as without TLS.
    private static func server(_ identity: ServerIdentity) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in ReloadableTLSChannel(base: HTTP1Channel(responder: responder), identity: identity) }
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

    /// The certificate chain and its key from the files, checked to belong together (a key for another certificate
    /// would otherwise fail every handshake), and the client CAs; with the TLS context made from them.
    private static func read(
        certificateFile: String, keyFile: String, clientCAFile: String?, source: String, fields: YAMLFields?
    ) throws(ConfigurationError) -> ServerIdentity.Files {
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
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCAFile {
            configuration.trustRoots = .certificates(try certificates(clientCAFile, key: "client_ca_file", source: source, fields: fields))
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return ServerIdentity.Files(chain: chain, context: try NIOSSLContext(configuration: configuration))
        } catch {
            throw refused("certificate_file", "TLS cannot be set up: \(error)", source, fields)
        }
    }
}

/// What the gateway's TLS files held when last read, and the context each new connection is served with; replaced
/// whole by a reload.
final class ServerIdentity: Sendable {
    struct Files: Sendable {
        let chain: [NIOSSLCertificate]
        let context: NIOSSLContext

        var expiry: Date {
            chain.map { Date(timeIntervalSince1970: TimeInterval($0.notValidAfter)) }.min() ?? .distantPast
        }
    }

    private let state: Mutex<Files>

    init(_ files: Files) {
        state = Mutex(files)
    }

    var current: Files { state.withLock { $0 } }

    func replace(with files: Files) {
        state.withLock { $0 = files }
    }
}

/// HTTP/1.1 inside TLS, as HummingbirdTLS's `TLSChannel` sets it up, but with the TLS context in use when each
/// connection arrives (`ServerIdentity`) rather than one fixed at start: what makes a reload reach new connections,
/// client CAs included.
struct ReloadableTLSChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let identity: ServerIdentity

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = identity.current.context
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
