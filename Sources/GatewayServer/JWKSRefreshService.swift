import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import Policy
import ServiceLifecycle

/// Re-fetches the identity provider's JWKS (config `auth.jwks_url`) every `interval`, so a key the identity
/// provider rotates in is trusted without a restart. A failed fetch keeps the keys in force and is retried at
/// the next interval.
struct JWKSRefreshService: Service {
    let url: String
    let interval: Duration
    /// `auth.jwks_ca_file`: the CAs trusted for `url` instead of the system's.
    let caFile: String?
    let verifier: TokenVerifier
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            let interval = interval
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil,
                !Task.isShuttingDownGracefully
            else { return }
            do {
                try await verifier.replaceKeys(jwks: try await Self.fetch(url, trusting: caFile))
                logger.debug("JWKS refreshed", metadata: ["keys": "\(verifier.keyIDs.count)"])
            } catch {
                logger.warning("JWKS refresh failed; the keys in force stay", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// The largest JWKS document accepted.
    static let maximumBytes = 256 * 1024

    /// GETs the JWKS document, bounded in time and size, trusting the CAs in `caFile` (PEM) when given, else the
    /// system's roots. With a CA file, a client of its own is made for the fetch (every few minutes at most).
    static func fetch(_ url: String, trusting caFile: String? = nil, timeout: Duration = .seconds(10)) async throws
        -> String
    {
        guard let caFile else { return try await fetch(url, with: .shared, timeout: timeout) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try trustRoots(in: caFile))
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let document = try await fetch(url, with: client, timeout: timeout)
            try await client.shutdown()
            return document
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The certificates in a PEM file; throws when it holds none.
    static func trustRoots(in path: String) throws -> [NIOSSLCertificate] {
        let certificates = try NIOSSLCertificate.fromPEMFile(path)
        guard !certificates.isEmpty else { throw KeySetError("no certificate in \(path)") }
        return certificates
    }

    private static func fetch(_ url: String, with client: HTTPClient, timeout: Duration) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json, application/jwk-set+json")
        let response = try await client.execute(request, timeout: TimeAmount(timeout))
        guard response.status == .ok else {
            throw KeySetError("the JWKS URL answered HTTP \(response.status.code)")
        }
        let body = try await response.body.collect(upTo: maximumBytes)
        return String(buffer: body)
    }
}
