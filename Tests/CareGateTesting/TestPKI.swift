import Crypto
import Foundation
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

    /// A certificate for `localhost`, for a server or a client, signed by `authority`.
    public static func leaf(_ name: String, server: Bool, issuedBy authority: Issued) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(3600),
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
}
