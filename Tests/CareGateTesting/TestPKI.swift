import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOSSL
import X509

/// A throwaway PKI made for each test run: CAs and certificates valid for an hour, keys never written outside the
/// test's own temporary folder.
public struct TestPKI {
    public struct Issued: Sendable {
        public let certificate: Certificate
        public let key: P256.Signing.PrivateKey

        public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
        public var keyPEM: String { key.pemRepresentation }
        public var notValidAfter: Date { certificate.notValidAfter }

        public func nioCertificate() throws -> NIOSSLCertificate {
            try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        }

        public func nioKey() throws -> NIOSSLPrivateKey {
            try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        }
    }

    public static func authority(_ name: String) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(3600),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
        return Issued(certificate: certificate, key: key)
    }

    /// A certificate for `localhost`, for a server or a client, signed by `authority`, valid until `notValidAfter`
    /// (by default an hour from now).
    public static func leaf(
        _ name: String, server: Bool, issuedBy authority: Issued, notValidAfter: Date = Date().addingTimeInterval(3600)
    ) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: notValidAfter,
            issuer: authority.certificate.subject, subject: try DistinguishedName { CommonName(name) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([server ? .serverAuth : .clientAuth])
                SubjectAlternativeNames([.dnsName("localhost")])
            },
            issuerPrivateKey: .init(authority.key))
        return Issued(certificate: certificate, key: key)
    }

    /// `GET url` over HTTPS, trusting only `authority` and presenting `client` if given: the status and body, or nil
    /// when no HTTP exchange happened (the handshake failed). A new client each time, so each call is a new handshake.
    /// AsyncHTTPClient tries a failed connection again until `timeout`, so a probe expected to fail should be short.
    public static func get(
        _ url: String, trusting authority: Issued, presenting client: Issued? = nil, timeout: TimeAmount = .seconds(5)
    ) async -> (status: Int, body: [UInt8])? {
        var tls = TLSConfiguration.makeClientConfiguration()
        guard let root = try? authority.nioCertificate() else { return nil }
        tls.trustRoots = .certificates([root])
        if let client, let certificate = try? client.nioCertificate(), let key = try? client.nioKey() {
            tls.certificateChain = [.certificate(certificate)]
            tls.privateKey = .privateKey(key)
        }
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() }
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 22)
            return (Int(response.status.code), Array(buffer: body))
        } catch {
            return nil
        }
    }

    /// The status of `GET url` over HTTPS (see `get`).
    public static func status(
        _ url: String, trusting authority: Issued, presenting client: Issued? = nil, timeout: TimeAmount = .seconds(5)
    ) async -> Int? {
        await get(url, trusting: authority, presenting: client, timeout: timeout)?.status
    }
}
