import AsyncHTTPClient
import CareRecords
import Foundation
import GatewayServer
import Logging
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
            do {
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
            } catch {
                try await gateway.stop()
                throw error
            }
            try await gateway.stop()
            #expect(gateway.process.terminationReason == .exit)
            #expect(gateway.process.terminationStatus == 0)
        }
    }
}
