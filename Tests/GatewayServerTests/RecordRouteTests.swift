import CareGateTesting
import CareRecords
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Providers
import Testing

@testable import GatewayServer

/// The records route in process, over fake providers: the HTTP contract without sockets.
@Suite struct RecordRouteTests {
    static let patient = "9990000018"

    /// Runs `body` with a client and a clinician's headers (R8000, launched for `patient`).
    func withGateway(
        _ adapters: [FakeAdapter], deadlineMilliseconds: Int = 2_000,
        _ body: @Sendable (any TestClientProtocol, HTTPFields) async throws -> Void
    ) async throws {
        try await withRouteGateway(adapters, deadlineMilliseconds: deadlineMilliseconds) { client, access in
            try await body(client, try await access.headers(patient: try NHSNumber(Self.patient)))
        }
    }

    @Test func returnsTheMergedViewWithAManifest() async throws {
        try await withGateway([
            FakeAdapter("gp", .answer(after: .zero, entries: 2)),
            FakeAdapter("mh-trust", kind: .trust, .answer(after: .zero, entries: 3)),
        ]) { client, auth in
            try await client.execute(uri: "/v1/patients/\(Self.patient)/record", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[.careGateComplete] == "true")
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
                #expect(view.patient.nhsNumber == Self.patient)
                #expect(view.complete)
                #expect(view.providers.map(\.id) == ["gp", "mh-trust"])
                #expect(view.providers.map(\.kind) == ["gp", "trust"])
                #expect(view.providers.map(\.entries) == [2, 3])
                #expect(view.entries.count == 5)
                #expect(view.entries.allSatisfy { $0.sources.count == 1 })
            }
        }
    }

    /// A percent-encoded NHS number in the path still names the patient (decoded only when it holds a `%`).
    @Test func aPercentEncodedNHSNumberIsDecoded() async throws {
        try await withGateway([FakeAdapter("gp", .answer(after: .zero, entries: 1))]) { client, auth in
            let encoded = Self.patient.utf8.map { "%3\(Character(UnicodeScalar($0)))" }.joined()
            try await client.execute(uri: "/v1/patients/\(encoded)/record", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
                #expect(view.patient.nhsNumber == Self.patient)
            }
        }
    }

    @Test func theJSONUsesTheDocumentedSpelling() async throws {
        try await withGateway([FakeAdapter("gp", .answer(after: .zero, entries: 1))]) { client, auth in
            try await client.execute(uri: "/v1/patients/\(Self.patient)/record", method: .get, headers: auth) { response in
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(Set(json.keys) == ["patient", "complete", "providers", "entries", "withheld"])
                let provider = try #require((json["providers"] as? [[String: Any]])?.first)
                #expect(Set(provider.keys) == ["id", "kind", "status", "latencyMs", "entries"])
                let entry = try #require((json["entries"] as? [[String: Any]])?.first)
                #expect(entry["category"] as? String == "medication")
                #expect((entry["sources"] as? [[String: String]])?.first == ["provider": "gp", "id": "0"])
            }
        }
    }

    @Test func serverTimingSeparatesTheSlowestProviderFromTheGatewaysOwnTime() async throws {
        try await withGateway([
            FakeAdapter("gp", .answer(after: .milliseconds(80), entries: 2)),
            FakeAdapter("mh-trust", kind: .trust, .answer(after: .zero, entries: 3)),
        ]) { client, auth in
            try await client.execute(uri: "/v1/patients/\(Self.patient)/record", method: .get, headers: auth) { response in
                let header = try #require(response.headers[.serverTiming])
                let durations = serverTimingDurations(header)
                let providers = try #require(durations["providers"], "\(header)")
                let gateway = try #require(durations["gateway"], "\(header)")
                let total = try #require(durations["total"], "\(header)")
                let audit = try #require(durations["audit"], "\(header)")
                let policy = try #require(durations["policy"], "\(header)")
                #expect(policy >= 0 && policy <= gateway, "the decision is part of the gateway's own time: \(header)")
                #expect(providers >= 80, "the slow provider took at least 80 ms: \(header)")
                #expect(gateway >= 0)
                #expect(audit > 0 && audit <= gateway, "the audit write is part of the gateway's own time: \(header)")
                #expect(abs(providers + gateway - total) < 0.002, "\(header)")
                #expect(!header.contains(Self.patient))
            }
        }
    }

    @Test(arguments: [0.0, 0.0004, 0.0005, 1.5, 12.3456, 80.412, 999.9996, 123_456.789, -0.25, -3.0004])
    func serverTimingWritesMillisecondsAsPrintfDoes(_ milliseconds: Double) {
        #expect(ServerTiming.format(milliseconds) == String(format: "%.3f", milliseconds))
    }

    @Test func aProviderThatDidNotAnswerMakesTheViewIncomplete() async throws {
        try await withGateway(
            [
                FakeAdapter("gp", .answer(after: .zero, entries: 2)),
                FakeAdapter("stuck", .hangIgnoringCancellation),
            ], deadlineMilliseconds: 200
        ) { client, auth in
            try await client.execute(uri: "/v1/patients/\(Self.patient)/record", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.careGateComplete] == "false")
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
                #expect(!view.complete)
                #expect(view.providers.map(\.status) == ["ok", "timeout"])
                #expect(view.providers[1].error != nil)
                #expect(view.entries.count == 2)
            }
        }
    }

    @Test(arguments: [
        ("999000001", "has 10 digits, this has 9"),
        ("9990000019", "check digit"),
        ("99900000ab", "only digits"),
    ])
    func anInvalidNHSNumberIs400NamingTheProblem(_ number: String, _ problem: String) async throws {
        let adapter = FakeAdapter("gp", .answer(after: .zero, entries: 1))
        try await withGateway([adapter]) { client, auth in
            try await client.execute(uri: "/v1/patients/\(number)/record", method: .get, headers: auth) { response in
                #expect(response.status == .badRequest)
                let body = try OutcomeBody(Data(buffer: response.body))
                #expect(body.resourceType == "OperationOutcome")
                #expect(body.issueType == "invalid")
                #expect(body.code == "invalid-nhs-number")
                #expect(body.message?.contains("'nhs'") == true)
                #expect(body.message?.contains(problem) == true)
                #expect(body.message?.contains(number) == false)
            }
        }
        #expect(adapter.calls.load(ordering: .relaxed) == 0)
    }

    @Test func acceptsASpacedNHSNumber() async throws {
        try await withGateway([FakeAdapter("gp", .answer(after: .zero, entries: 1))]) { client, auth in
            try await client.execute(uri: "/v1/patients/999%20000%200018/record", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
                #expect(view.patient.nhsNumber == Self.patient)
            }
        }
    }

    @Test func categoryNarrowsTheQueryAndUnknownOnesAre400() async throws {
        let documents = FakeAdapter("docs", categories: [.document], .answer(after: .zero, entries: 1))
        try await withGateway([FakeAdapter("gp", categories: [.medication, .allergy], .answer(after: .zero, entries: 4)), documents]) { client, auth in
            try await client.execute(uri: "/v1/patients/\(Self.patient)/record?category=allergy", method: .get, headers: auth) { response in
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
                // Providers are listed in id order: "docs", then "gp".
                #expect(view.providers.map(\.id) == ["docs", "gp"])
                #expect(view.providers.map(\.status) == ["skipped", "ok"])
                #expect(view.entries.map(\.category) == [.allergy, .allergy])
                #expect(view.complete)
            }
            try await client.execute(uri: "/v1/patients/\(Self.patient)/record?category=pills", method: .get, headers: auth) { response in
                #expect(response.status == .badRequest)
                let outcome = try OutcomeBody(Data(buffer: response.body))
                #expect(outcome.code == "invalid-category")
            }
        }
        #expect(documents.calls.load(ordering: .relaxed) == 0)
    }

    @Test func healthAndReadinessNeedNoToken() async throws {
        let access = try await TestAccess.make()
        defer { access.remove() }
        let app = buildApplication(
            configuration: GatewayConfiguration(port: 0), providers: try ProviderDirectory(adapters: []),
            access: access.control, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ready"}"#)
            }
        }
    }
}

@Suite struct ClientDeadlineTests {
    func withGateway(_ body: @Sendable (any TestClientProtocol, HTTPFields) async throws -> Void) async throws {
        try await withRouteGateway(
            [FakeAdapter("gp", .answer(after: .zero, entries: 1)), FakeAdapter("stuck", .hangIgnoringCancellation)],
            deadlineMilliseconds: 1_000
        ) { client, access in
            try await body(client, try await access.headers(patient: try NHSNumber("9990000018")))
        }
    }

    @Test func aClientMayShortenTheDeadline() async throws {
        try await withGateway { client, auth in
            let start = ContinuousClock.now
            try await client.execute(
                uri: "/v1/patients/9990000018/record", method: .get, headers: auth + [.careGateDeadline: "150"]
            ) { response in
                #expect(start.duration(to: .now) < .milliseconds(600))
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
                #expect(view.providers.map(\.status) == ["ok", "timeout"])
                #expect(view.providers[1].latencyMs == 150)
            }
        }
    }

    @Test func butNeverLengthenIt() async throws {
        try await withGateway { client, auth in
            try await client.execute(
                uri: "/v1/patients/9990000018/record", method: .get, headers: auth + [.careGateDeadline: "30000"]
            ) { response in
                let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
                #expect(view.providers[1].latencyMs == 1_000)
            }
        }
    }

    @Test(arguments: ["soon", "0", "-5", "60001"])
    func aBadDeadlineIs400(_ value: String) async throws {
        try await withGateway { client, auth in
            try await client.execute(
                uri: "/v1/patients/9990000018/record", method: .get, headers: auth + [.careGateDeadline: value]
            ) { response in
                #expect(response.status == .badRequest)
                let outcome = try OutcomeBody(Data(buffer: response.body))
                #expect(outcome.code == "invalid-deadline")
            }
        }
    }
}

/// Runs `body` against an in-process gateway over `adapters`, with fresh access control (SQLite stores in a
/// temporary data directory, removed afterwards).
func withRouteGateway(
    _ adapters: [FakeAdapter], deadlineMilliseconds: Int = 2_000, auditDisclosure: AuditDisclosureTiming = .withAnswer,
    _ body: @Sendable (any TestClientProtocol, TestAccess) async throws -> Void
) async throws {
    let access = try await TestAccess.make()
    defer { access.remove() }
    let app = buildApplication(
        configuration: GatewayConfiguration(deadlineMilliseconds: deadlineMilliseconds, auditDisclosure: auditDisclosure),
        providers: try ProviderDirectory(adapters: adapters), access: access.control, logger: Logger(label: "test"))
    try await app.test(.router) { client in try await body(client, access) }
}

extension HTTPFields {
    static func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
        var result = lhs
        result.append(contentsOf: rhs)
        return result
    }
}
