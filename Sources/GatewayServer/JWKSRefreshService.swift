import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Policy
import ServiceLifecycle

/// Re-fetches the identity provider's JWKS (config `auth.jwks_url`) every `interval`, so a key the identity
/// provider rotates in is trusted without a restart. A failed fetch keeps the keys in force and is retried at
/// the next interval.
struct JWKSRefreshService: Service {
    let url: String
    let interval: Duration
    let verifier: TokenVerifier
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            let interval = interval
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil,
                !Task.isShuttingDownGracefully
            else { return }
            do {
                try await verifier.replaceKeys(jwks: try await Self.fetch(url))
                logger.debug("JWKS refreshed", metadata: ["keys": "\(verifier.keyIDs.count)"])
            } catch {
                logger.warning("JWKS refresh failed; the keys in force stay", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// The largest JWKS document accepted.
    static let maximumBytes = 256 * 1024

    /// GETs the JWKS document, bounded in time and size.
    static func fetch(_ url: String, timeout: Duration = .seconds(10)) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json, application/jwk-set+json")
        let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
        guard response.status == .ok else {
            throw KeySetError("the JWKS URL answered HTTP \(response.status.code)")
        }
        let body = try await response.body.collect(upTo: maximumBytes)
        return String(buffer: body)
    }
}
