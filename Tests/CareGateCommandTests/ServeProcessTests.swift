import AsyncHTTPClient
import CareGateTesting
import CareRecords
import Foundation
import GatewayServer
import Logging
import Policy
import ProviderSimulator
import Testing

@testable import caregate

/// `caregate serve` as a process of its own — the binary a container runs — against the six simulated providers:
/// it starts with the executor asked for, answers a records query from every provider, and stops cleanly on SIGTERM.
/// (Every other gateway test builds the application in the test process, so none runs `main`, where the executor
/// is chosen.)
@Suite struct ServeProcessTests {
    /// The `caregate` binary `swift build` made beside this test bundle.
    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("caregate").path

    /// Runs the `caregate` binary to its end; standard error is read after standard output (both small here).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let (output, errors) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(arguments: TaskExecutorChoice.allCases)
    func servesRecordsOnTheExecutorAskedFor(_ executor: TaskExecutorChoice) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "no caregate binary at \(Self.binary)")
        let bench = try await BenchEnvironment.start(
            providersFolder: Self.repository.appendingPathComponent("providers").path,
            policy: Self.repository.appendingPathComponent("deploy/policy.yaml").path, executor: executor,
            executable: Self.binary, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer { bench.removeFolder() }
        let client = HTTPClient()
        try await bench.closing(client) {
            let gateway = try await bench.startGateway()
            try await gateway.whileRunning {
                let ready = try JSONSerialization.jsonObject(with: Data(gateway.readyLine.utf8)) as? [String: Any]
                #expect(ready?["executor"] as? String == executor.rawValue)
                #expect(ready?["providers"] as? String == "\(bench.endpoints.count)")

                let (patient, token) = try #require(bench.tokens.first)
                var request = HTTPClientRequest(url: "\(gateway.baseURL)/v1/patients/\(patient.digits)/record")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let response = try await client.execute(request, timeout: .seconds(30))
                let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
                #expect(response.status == .ok)
                #expect(response.headers.first(name: "CareGate-Complete") == "true")
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: body))
                #expect(view.patient.nhsNumber == patient.digits)
                #expect(view.providers.count == bench.endpoints.count)
                #expect(view.providers.allSatisfy { $0.status == "ok" }, "\(view.providers.map { "\($0.id) \($0.status)" })")
                #expect(!view.entries.isEmpty)
            }
        }
    }

    /// Two `serve` processes sharing one PostgreSQL store, as two replicas: a provider registered through one's
    /// admin API is used by the other within its polling interval, and both still stop cleanly on SIGTERM.
    @Test(.enabled(if: TestPostgres.isConfigured, "CAREGATE_TEST_POSTGRES_URL is unset"))
    func replicasSharingAStoreShareProviderChanges() async throws {
        let bench = try await BenchEnvironment.start(
            providersFolder: Self.repository.appendingPathComponent("providers").path,
            policy: Self.repository.appendingPathComponent("deploy/policy.yaml").path, executor: .swift,
            executable: Self.binary, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer { bench.removeFolder() }
        let key = try DemoSigningKey(dataDirectory: bench.folder)
        let (patient, _) = try #require(bench.tokens.first)
        let operatorToken = try await key.sign(AccessClaims.demo(role: "R8000", patient: patient, admin: true))
        let gp = try #require(bench.endpoints.first { $0.id == SimulatedProviderID.gp })
        let copy = gp.providerDefinitionYAML().replacingOccurrences(of: "id: gp", with: "id: gp-copy")
        let client = HTTPClient()
        try await TestPostgres.withScratchSchema { store in
            try await bench.closing(client) {
                let first = try await bench.startGateway(store: store)
                let second = try await bench.startGateway(store: store)
                func ids(_ gateway: BenchGateway) async throws -> [String] {
                    var request = HTTPClientRequest(url: "\(gateway.baseURL)/admin/providers")
                    request.headers.add(name: "Authorization", value: "Bearer \(operatorToken)")
                    let body = try await client.execute(request, timeout: .seconds(10)).body.collect(upTo: 1 << 20)
                    let list = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: [[String: Any]]]
                    return (list?["providers"] ?? []).compactMap { $0["id"] as? String }
                }
                do {
                    var put = HTTPClientRequest(url: "\(first.baseURL)/admin/providers/gp-copy")
                    put.method = .PUT
                    put.headers.add(name: "Authorization", value: "Bearer \(operatorToken)")
                    put.body = .bytes(Array(copy.utf8))
                    #expect(try await client.execute(put, timeout: .seconds(10)).status == .created)
                    #expect(try await ids(first).contains("gp-copy"))
                    let deadline = ContinuousClock.now + .seconds(10)
                    while try await !ids(second).contains("gp-copy"), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    #expect(try await ids(second).contains("gp-copy"))
                } catch {
                    try await first.stop()
                    try await second.stop()
                    throw error
                }
                for gateway in [first, second] {
                    try await gateway.stop()
                    #expect(gateway.process.terminationReason == .exit)
                    #expect(gateway.process.terminationStatus == 0)
                }
            }
        }
    }
}

extension BenchGateway {
    /// Runs `body` against the running `caregate serve`, then stops it with SIGTERM (also when `body` throws) and
    /// expects a clean exit.
    func whileRunning(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            try await stop()
            throw error
        }
        try await stop()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }
}
