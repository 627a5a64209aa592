import CareGateTesting
import Foundation
import Logging
import NIOCore
import Policy
import Testing

@testable import caregate

/// `caregate serve` with `tls` in its config, as a process: on SIGHUP it reads its certificate and key again and
/// presents the renewed pair from the next handshake on, still serving and without a restart — what a renewal hook
/// (`certbot --deploy-hook 'kill -HUP …'`) or a re-applied Secret relies on.
@Suite struct ServeHangupTests {
    @Test func sighupPresentsARenewedCertificateWithoutARestart() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: ServeProcessTests.binary))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-hup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/providers", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let firstCA = try TestPKI.authority("CareGate test first CA")
        let renewingCA = try TestPKI.authority("CareGate test renewing CA")
        func install(_ issued: TestPKI.Issued) throws {
            try issued.certificatePEM.write(toFile: folder + "/gateway.pem", atomically: true, encoding: .utf8)
            try issued.keyPEM.write(toFile: folder + "/gateway-key.pem", atomically: true, encoding: .utf8)
        }
        try install(try TestPKI.leaf("localhost", server: true, issuedBy: firstCA))
        // serve needs one provider: the simulated GP's file (no simulator runs; it is never asked).
        try FileManager.default.copyItem(
            atPath: ServeProcessTests.repository.appendingPathComponent("providers/gp.yaml").path,
            toPath: folder + "/providers/gp.yaml")
        try DemoSigningKey(dataDirectory: folder).jwksJSON.write(toFile: folder + "/jwks.json", atomically: true, encoding: .utf8)
        try "tls:\n  certificate_file: gateway.pem\n  key_file: gateway-key.pem\n".write(
            toFile: folder + "/caregate.yaml", atomically: true, encoding: .utf8)

        let gateway = try await BenchGateway.launch(
            executable: ServeProcessTests.binary,
            arguments: [
                "serve", "--config", folder + "/caregate.yaml", "--providers", folder + "/providers", "--port", "0",
                "--data-dir", folder + "/data",
                "--policy", ServeProcessTests.repository.appendingPathComponent("deploy/policy.yaml").path,
                "--jwks-file", folder + "/jwks.json", "--issuer", DemoSigningKey.issuer, "--log-level", "notice",
                "--log-format", "json", "--drain-delay-ms", "0",
            ],
            readyLine: "CareGate ready", urlKey: "url")
        try await gateway.whileRunning {
            let port = try #require(URL(string: gateway.baseURL)?.port)
            #expect(gateway.baseURL.hasPrefix("https://"))
            let healthz = "https://localhost:\(port)/healthz"
            #expect(await TestPKI.status(healthz, trusting: firstCA) == 200)

            try install(try TestPKI.leaf("localhost", server: true, issuedBy: renewingCA))
            kill(gateway.process.processIdentifier, SIGHUP)
            let deadline = ContinuousClock.now + .seconds(10)
            var renewed = await TestPKI.status(healthz, trusting: renewingCA, timeout: .seconds(1))
            while renewed == nil, ContinuousClock.now < deadline {
                renewed = await TestPKI.status(healthz, trusting: renewingCA, timeout: .seconds(1))
            }
            #expect(renewed == 200)
            #expect(await TestPKI.status(healthz, trusting: firstCA, timeout: .seconds(1)) == nil)
            #expect(gateway.process.isRunning)
        }
    }
}
