import Foundation
import GatewayServer
import Providers
import Testing

@Suite struct GatewayConfigurationTests {
    func withConfigFile(_ yaml: String, _ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-config-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("caregate.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        try body(path)
    }

    @Test func readsEveryKeyAndResolvesPathsAgainstTheFile() throws {
        try withConfigFile(
            """
            host: 0.0.0.0
            port: 9000
            providers: conf/providers
            deadline_ms: 1500
            data_dir: /var/lib/caregate
            """
        ) { path in
            let configuration = try GatewayConfiguration(file: path)
            let folder = (path as NSString).deletingLastPathComponent
            #expect(configuration.host == "0.0.0.0")
            #expect(configuration.port == 9000)
            #expect(configuration.providersDirectory == folder + "/conf/providers")
            #expect(configuration.deadlineMilliseconds == 1500)
            #expect(configuration.dataDirectory == "/var/lib/caregate")
        }
    }

    @Test func missingKeysTakeTheDocumentedDefaults() throws {
        try withConfigFile("port: 8081\n") { path in
            let configuration = try GatewayConfiguration(file: path)
            #expect(configuration.port == 8081)
            #expect(configuration.host == "127.0.0.1")
            #expect(configuration.deadlineMilliseconds == 2000)
        }
    }

    @Test func aBadValueOrAnUnknownKeyIsRefusedNamingIt() throws {
        try withConfigFile("port: 8080\ndeadline_ms: 0\n") { path in
            #expect(throws: ConfigurationError.self) { try GatewayConfiguration(file: path) }
            do { _ = try GatewayConfiguration(file: path) } catch {
                #expect("\(error)" == "\(path):2: key 'deadline_ms': must be between 1 and 60000, got 0")
            }
        }
        try withConfigFile("prot: 8080\n") { path in
            do {
                _ = try GatewayConfiguration(file: path)
                Issue.record("an unknown key must be refused")
            } catch {
                #expect("\(error)".contains("key 'prot': unknown key"))
            }
        }
    }
}
