import AsyncHTTPClient
import CareGateTesting
import CareRecords
import Foundation
@testable import GatewayServer
import Logging
import Policy
import Providers
import ServiceLifecycle
import Synchronization
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

/// With `audit_disclosure: after-answer`, the record of what an answer disclosed is written after the answer has
/// gone; a shutdown straight after must still write it before the audit trail closes.
@Suite struct DisclosureOnShutdownTests {
    /// The real trail, with every disclosure record held back a while before it is appended.
    struct SlowDisclosureTrail: AuditTrail {
        let inner: any AuditTrail
        let delay: Duration

        func append(_ record: AuditRecord) async throws(AuditStoreError) -> StoredAuditRecord {
            if record.reason == AuditRecord.disclosedReason { try? await Task.sleep(for: delay) }
            return try await inner.append(record)
        }

        func records(_ search: AuditSearch, since: Date?, until: Date?, after: Int64, limit: Int) async throws(AuditStoreError)
            -> [StoredAuditRecord]
        {
            try await inner.records(search, since: since, until: until, after: after, limit: limit)
        }

        func record(sequence: Int64) async throws(AuditStoreError) -> StoredAuditRecord? {
            try await inner.record(sequence: sequence)
        }

        func accessVolume(since: Date, until: Date, limit: Int) async throws(AuditStoreError) -> [UserAccessSummary] {
            try await inner.accessVolume(since: since, until: until, limit: limit)
        }

        func breakGlassRecords(since: Date, after: Int64, limit: Int, reviewed: Bool?) async throws(AuditStoreError)
            -> [BreakGlassRecord]
        {
            try await inner.breakGlassRecords(since: since, after: after, limit: limit, reviewed: reviewed)
        }

        func addReview(_ review: BreakGlassReview) async throws(AuditStoreError) { try await inner.addReview(review) }

        func reviews(requestID: String) async throws(AuditStoreError) -> [BreakGlassReview] {
            try await inner.reviews(requestID: requestID)
        }

        func awaitingReview() async throws(AuditStoreError) -> ReviewBacklog { try await inner.awaitingReview() }

        func verify() async throws(AuditStoreError) -> AuditVerification { try await inner.verify() }

        func shutdown() async { await inner.shutdown() }
    }

    @Test func drainedWaitsForEveryWriteAndReturnsAtOnceWhenNoneIsRunning() async {
        let pending = PendingDisclosures()
        await pending.drained()
        let written = Mutex(0)
        for delay in [30, 90, 60] {
            pending.start {
                try? await Task.sleep(for: .milliseconds(delay))
                written.withLock { $0 += 1 }
            }
        }
        #expect(pending.count == 3)
        await pending.drained()
        #expect(written.withLock { $0 } == 3)
        #expect(pending.count == 0)
    }

    @Test func aShutdownRightAfterAnAnswerWaitsForItsDisclosureRecord() async throws {
        let test = try await TestAccess.make()
        defer { test.remove() }
        let logger = Logger(label: "test.disclosure")
        let access = AccessControl(
            verifier: test.control.verifier, rolePolicy: test.control.rolePolicy, optOuts: test.control.optOuts,
            audit: SlowDisclosureTrail(inner: test.control.audit, delay: .milliseconds(500)))
        let (ports, portsContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(
            configuration: GatewayConfiguration(port: 0, deadlineMilliseconds: 2_000, auditDisclosure: .afterAnswer),
            providers: try ProviderDirectory(adapters: [FakeAdapter("gp", .answer(after: .zero, entries: 2))]),
            access: access, logger: logger
        ) { port in portsContinuation.yield(port) }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        let patient = try NHSNumber("9990000018")
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/patients/\(patient.digits)/record")
        request.headers.add(name: "Authorization", value: "Bearer \(try await test.token(patient: patient))")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status == .ok)
        let requestID = try #require(response.headers.first(name: "CareGate-Request-Id"))

        // The answer is in hand and its disclosure record is still held back: stop now.
        await group.triggerGracefulShutdown()
        try await running.value

        // The trail is closed; open its file again and read what it holds.
        let trail = try await makeAuditTrail(AccessControl.storeLocations(test.configuration).audit, logger: logger)
        let records = try await trail.records(patient: patient)
        #expect(records.map(\.record.reason) == ["legitimate-relationship", AuditRecord.disclosedReason])
        #expect(records.allSatisfy { $0.record.requestID == requestID })
        #expect(try await trail.verify() == .intact(count: 2))
        await trail.shutdown()
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
