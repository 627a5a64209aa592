import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Providers

/// HTTPS at the gateway itself (config `tls`), for a gateway no TLS-terminating proxy stands in front of — one
/// replica on one machine, or a link between regions' gateways — and, with `client_ca_file`, mutual TLS: only a
/// client presenting a certificate from those CAs gets as far as its bearer token being read.
///
/// Keys (paths relative to the config file): `certificate_file` (the gateway's certificate chain, PEM), `key_file`
/// (its private key, PEM, not encrypted), `client_ca_file` (optional: the CAs whose client certificates are required).
/// The files are read and checked at start, so a wrong one stops the start naming the key and the file; TLS 1.2 or
/// later. A renewed certificate takes a restart (a rolling one, with several replicas).
public struct GatewayTLS: Sendable, Equatable {
    public let certificateFile: String
    public let keyFile: String
    public let clientCAFile: String?
    /// The server side of TLS, as the files said at start.
    public let configuration: TLSConfiguration
    /// The server: HTTP/1.1 inside TLS.
    let server: HTTPServerBuilder

    static let keys: Set<String> = ["certificate_file", "key_file", "client_ca_file"]

    init(_ fields: YAMLFields, resolve: (String) -> String) throws(ConfigurationError) {
        certificateFile = resolve(try fields.string("certificate_file")!)
        keyFile = resolve(try fields.string("key_file")!)
        clientCAFile = try fields.string("client_ca_file", required: false).map(resolve)
        configuration = try Self.configuration(
            certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile, fields: fields)
        server = try Self.server(configuration, fields: fields)
    }

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        configuration = try Self.configuration(
            certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile, fields: nil)
        server = try Self.server(configuration, fields: nil)
    }

    /// Whether clients must present a certificate (mutual TLS).
    public var requiresClientCertificate: Bool { clientCAFile != nil }

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

    private static func configuration(
        certificateFile: String, keyFile: String, clientCAFile: String?, fields: YAMLFields?
    ) throws(ConfigurationError) -> TLSConfiguration {
        func refused(_ key: String, _ problem: String) -> ConfigurationError {
            fields?.error(key, problem) ?? ConfigurationError(file: "tls", key: key, problem: problem)
        }
        func certificates(_ path: String, key: String) throws(ConfigurationError) -> [NIOSSLCertificate] {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
                throw refused(key, "\(path) holds no PEM certificate the gateway can read")
            }
            return certificates
        }
        let chain = try certificates(certificateFile, key: "certificate_file")
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw refused("key_file", "\(keyFile) holds no PEM private key (an encrypted key is not read)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCAFile {
            configuration.trustRoots = .certificates(try certificates(clientCAFile, key: "client_ca_file"))
            configuration.certificateVerification = .noHostnameVerification
        }
        // The pair is checked now: a key for another certificate would otherwise fail every handshake.
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw refused("key_file", "\(keyFile) is not the private key of the certificate in \(certificateFile)")
        }
        return configuration
    }
}
