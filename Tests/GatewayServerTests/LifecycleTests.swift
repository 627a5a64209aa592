import AsyncHTTPClient
import CareGateTesting
import CareRecords
import Foundation
@testable import GatewayServer
import Logging
import Providers
import ServiceLifecycle
import Testing

/// Shutting down: `/readyz` turns unready first, in-flight requests are answered, then the process stops.
@Suite struct LifecycleTests {
    @Test func onShutdownTheGatewayTurnsUnreadyFirstAndDrainsInFlightRequests() async throws {
        let access = try await TestAccess.make()
        defer { access.remove() }
        let logger = Logger(label: "test.lifecycle")
        let readiness = Readiness()
        let (ports, portsContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(
            configuration: GatewayConfiguration(port: 0, deadlineMilliseconds: 3_000),
            providers: try ProviderDirectory(adapters: [FakeAdapter("slow", .answer(after: .milliseconds(900), entries: 1))]),
            access: access.control, logger: logger, readiness: readiness
        ) { port in portsContinuation.yield(port) }
        let group = ServiceGroup(
            services: [app, ReadinessGate(readiness: readiness, drainDelay: .milliseconds(700), logger: logger)],
            gracefulShutdownSignals: [], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let base = "http://127.0.0.1:\(port)"

        func status(_ path: String, token: String? = nil) async throws -> Int {
            var request = HTTPClientRequest(url: base + path)
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        }

        #expect(try await status("/readyz") == 200)
        let token = try await access.token(patient: try NHSNumber("9990000018"))
        let inFlight = Task { try await status("/v1/patients/9990000018/record", token: token) }
        try await Task.sleep(for: .milliseconds(200))

        await group.triggerGracefulShutdown()
        try await Task.sleep(for: .milliseconds(150))
        // Still listening during the drain delay, but telling load balancers to go elsewhere.
        #expect(try await status("/readyz") == 503)
        #expect(!readiness.isReady)
        // The request that was in flight is answered in full.
        #expect(try await inFlight.value == 200)
        try await running.value
    }
}

@Suite struct StructuredLogTests {
    static let metadata: Logger.Metadata = ["route": "/v1/patients/{nhs}/record", "status": "200", "note": "a \"quoted\" = value"]

    @Test func jsonLinesAreOneParsableObjectPerEvent() throws {
        let line = StructuredLogHandler.line(
            format: .json, time: "2026-11-25T15:00:00.000Z", level: .info, label: "caregate", message: "request\nnext",
            metadata: Self.metadata)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == [
            "ts": "2026-11-25T15:00:00.000Z", "level": "info", "logger": "caregate", "msg": "request\nnext",
            "route": "/v1/patients/{nhs}/record", "status": "200", "note": "a \"quoted\" = value",
        ])
    }

    @Test func logfmtQuotesOnlyWhatNeedsIt() {
        let line = StructuredLogHandler.line(
            format: .logfmt, time: "t", level: .notice, label: "caregate", message: "admin request", metadata: Self.metadata)
        #expect(line == #"ts=t level=notice logger=caregate msg="admin request" note="a \"quoted\" = value" route=/v1/patients/{nhs}/record status=200"# + "\n")
    }

    @Test func plainIsForPeople() {
        let line = StructuredLogHandler.line(
            format: .plain, time: "t", level: .warning, label: "caregate", message: "provider did not answer",
            metadata: ["provider": "gp"])
        #expect(line == "t warning caregate: provider did not answer provider=gp\n")
    }
}
