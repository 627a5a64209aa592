import CareRecords
import Foundation
import GatewayServer
import HummingbirdTesting
import ProviderSimulator
import Testing

/// The status page in a real headless browser (Debian's chromium), while the gateway is under load.
@Suite struct StatusBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs the browser headless on `url` with `arguments`; returns standard output.
    static func browse(_ url: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(chromium))
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=" + FileManager.default.temporaryDirectory.appendingPathComponent("caregate-chromium-\(UUID().uuidString)").path,
        ] + arguments + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(
        "the status page renders every provider's figures in a headless browser under load",
        .enabled(if: chromium != nil, "chromium is not installed (Debian package chromium; .ci/run installs it): browser check skipped"))
    func statusPageInABrowserUnderLoad() async throws {
        try await LiveGateway.run(faults: [SimulatedProviderID.careHome: .randomDelay(minMilliseconds: 20, maxMilliseconds: 120)]) { gateway in
            let port = try #require(gateway.client.port)
            let patients = LiveGateway.population.patients.prefix(12).map(\.nhsNumber)
            let load = Task {
                while !Task.isCancelled {
                    for patient in patients where !Task.isCancelled { _ = try? await gateway.record(patient) }
                }
            }
            defer { load.cancel() }
            try await Task.sleep(for: .seconds(2))

            let url = "http://127.0.0.1:\(port)/status"
            let dom = try Self.browse(url, ["--dump-dom", "--virtual-time-budget=2000"])
            for endpoint in gateway.endpoints {
                #expect(dom.contains(">\(endpoint.id.rawValue)</td>"), "\(endpoint.id) missing from the rendered page")
            }
            #expect(dom.contains("id=\"latency-chart\""))
            #expect(dom.contains("<polyline") || dom.contains("<circle"))
            // Figures, not placeholders: queries/s above zero and latencies in ms.
            let qps = try #require(dom.firstMatch(of: /id="qps">([0-9.]+)</)?.1)
            #expect((Double(qps) ?? 0) > 0)
            #expect(dom.contains(" ms</td>"))

            let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-status-\(UUID().uuidString).png").path
            defer { try? FileManager.default.removeItem(atPath: screenshot) }
            _ = try Self.browse(url, ["--screenshot=\(screenshot)", "--window-size=1100,900", "--hide-scrollbars"])
            let png = try #require(FileManager.default.contents(atPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(png.count > 20_000, "a rendered page, not a blank one")
        }
    }
}
