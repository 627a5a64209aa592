import CareRecords
import Foundation
import GatewayServer
import HummingbirdTesting
import Testing

/// The gateway driven by things the project did not write: fhirpy and fhirclient (FHIR client libraries from
/// PyPI), and openapi-core checking live responses against `schemas/openapi.yaml`. The Python side is
/// `Tests/python/run.sh`; `.ci/run` builds its virtual environment and sets `CAREGATE_PYTHON`.
@Suite struct PythonClientTests {
    static let python = ProcessInfo.processInfo.environment["CAREGATE_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/run.sh").path

    @Test(
        "fhirpy, fhirclient and the OpenAPI description agree with the running gateway",
        .enabled(if: python != nil, "CAREGATE_PYTHON is unset (Tests/python/setup-venv.sh makes it; .ci/run does): Python client tests skipped"))
    func pythonClientsAgainstTheLiveGateway() async throws {
        try await LiveGateway.run { gateway in
            let port = try #require(gateway.client.port)
            let patient = LiveGateway.population.demoPatient.nhsNumber
            let other = LiveGateway.population.patients[1].nhsNumber
            var environment = ProcessInfo.processInfo.environment
            environment["CAREGATE_BASE_URL"] = "http://127.0.0.1:\(port)"
            environment["CAREGATE_PATIENT"] = patient.digits
            environment["CAREGATE_TOKEN"] = try await gateway.access.token(patient: patient)
            environment["CAREGATE_OTHER_TOKEN"] = try await gateway.access.token(patient: other)
            environment["CAREGATE_ADMIN_TOKEN"] = try await gateway.access.token(patient: patient, admin: true)
            environment["CAREGATE_EMERGENCY_TOKEN"] = try await gateway.access.token(
                role: "R8001", patient: other, purpose: .emergency)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [Self.script]
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            // Read on another thread while the script runs, so a full pipe never blocks it.
            let collected = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
            while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            let report = String(decoding: await collected.value, as: UTF8.self)
            #expect(process.terminationStatus == 0, "Tests/python/run.sh failed:\n\(report.suffix(6000))")
            #expect(report.contains(" passed"))
        }
    }
}
