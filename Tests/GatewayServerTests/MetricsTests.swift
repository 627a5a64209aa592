import CareGateTesting
import CareRecords
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Policy
import ProviderSimulator
import Providers
import Synchronization
import Testing

@testable import GatewayServer

/// `GET /metrics`: per-provider and gateway-wide series after real queries, valid Prometheus text, no patient data.
@Suite struct MetricsTests {
    static func scrape(_ gateway: LiveGateway) async throws -> String {
        try await gateway.client.execute(uri: "/metrics", method: .get) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            return String(buffer: response.body)
        }
    }

    @Test func afterAQueryEveryProviderHasItsSeriesAndNoLabelHoldsPatientData() async throws {
        try await LiveGateway.run(faults: [SimulatedProviderID.cardiac: .httpError(status: 500)]) { gateway in
            let patients = LiveGateway.population.patients.prefix(3).map(\.nhsNumber)
            for patient in patients { _ = try await gateway.record(patient) }
            // A refused request and a bad token are counted too.
            _ = try await gateway.client.execute(
                uri: "/v1/patients/\(patients[1].digits)/record", method: .get,
                headers: try await gateway.access.headers(patient: patients[0])) { $0.status }
            _ = try await gateway.client.execute(uri: "/v1/patients/\(patients[0].digits)/record", method: .get) { $0.status }

            let text = try await Self.scrape(gateway)
            for endpoint in gateway.endpoints where endpoint.id != SimulatedProviderID.cardiac {
                let id = endpoint.id.rawValue
                #expect(text.contains(#"caregate_provider_outcomes_total{provider="\#(id)",outcome="ok"} 3"#), "\(id)")
                #expect(text.contains(#"caregate_provider_request_duration_seconds_count{provider="\#(id)"} 3"#), "\(id)")
                #expect(text.contains(#"caregate_provider_request_duration_seconds_bucket{provider="\#(id)",le="0.001"}"#))
                #expect(text.contains(#"caregate_provider_request_duration_seconds_bucket{provider="\#(id)",le="10.0"}"#))
                #expect(text.contains(#"caregate_provider_in_flight{provider="\#(id)"} 0"#), "\(id)")
                #expect(text.contains(#"caregate_provider_entries_total{provider="\#(id)"}"#), "\(id)")
                #expect(text.contains(#"caregate_provider_circuit_state{provider="\#(id)"} 0"#), "\(id)")
            }
            #expect(text.contains(#"caregate_provider_outcomes_total{provider="cardiac",outcome="error"} 3"#))
            #expect(text.contains(#"caregate_query_duration_seconds_count{route="/v1/patients/{nhs}/record"} 3"#))
            #expect(text.contains(#"caregate_gateway_overhead_seconds_count{route="/v1/patients/{nhs}/record"} 3"#))
            #expect(text.contains(#"caregate_policy_decisions_total{decision="allowed",reason="legitimate-relationship"} 3"#))
            #expect(text.contains(#"caregate_policy_decisions_total{decision="refused",reason="no-legitimate-relationship"} 1"#))
            #expect(text.contains(#"caregate_authentication_failures_total{reason="missing-token"} 1"#))
            #expect(text.contains("caregate_audit_write_duration_seconds_count 4"))
            #expect(text.contains("caregate_merge_duplicates_collapsed_total"))
            #expect(text.contains("# HELP caregate_gateway_overhead_seconds "))
            for patient in LiveGateway.population.patients.prefix(3) {
                #expect(!text.contains(patient.nhsNumber.digits))
                #expect(!text.contains(patient.familyName))
            }
        }
    }

    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(
        "the exposition passes promtool check metrics",
        .enabled(if: promtool != nil, "promtool is not installed (Debian package prometheus; .ci/run installs it): check skipped"))
    func promtoolAcceptsTheExposition() async throws {
        try await LiveGateway.run { gateway in
            _ = try await gateway.record(LiveGateway.population.demoPatient.nhsNumber)
            let text = try await Self.scrape(gateway)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(Self.promtool))
            process.arguments = ["check", "metrics"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
            input.fileHandleForWriting.write(Data(text.utf8))
            try input.fileHandleForWriting.close()
            let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "promtool: \(report)")
        }
    }
}

/// The client certificate a provider's mutual TLS presents: its expiry is exported so that an alert can warn
/// before every handshake with the provider starts failing.
@Suite struct ClientCertificateMetricTests {
    static let series = "caregate_provider_client_certificate_expiry_timestamp_seconds"

    /// A provider for `id`, presenting a fresh client certificate when `mutualTLS`, and that certificate's expiry.
    static func definition(_ id: String, mutualTLS: Bool = true) throws -> (ProviderDefinition, Date?) {
        let folder = FileManager.default.temporaryDirectory.appending(path: "caregate-mtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let client = try TestPKI.leaf("caregate-test", server: false, issuedBy: try TestPKI.authority("Test CA"))
        try Data(try client.certificatePEM.utf8).write(to: folder.appending(path: "gateway.pem"))
        try Data(client.keyPEM.utf8).write(to: folder.appending(path: "gateway-key.pem"))
        let tls = "tls:\n  certificate_file: gateway.pem\n  key_file: gateway-key.pem"
        let definition = try ProviderDefinition(
            yaml: """
                id: \(id)
                name: Provider \(id)
                kind: trust
                ods: RXX
                format: fhir-r4-xml
                url: "https://localhost:1/fhir/Patient/{nhs}/$everything"
                timeout_ms: 500
                categories: [medication]
                \(mutualTLS ? tls : "")
                """, file: "\(id).yaml", relativeTo: folder.path(percentEncoded: false))
        return (definition, mutualTLS ? client.notValidAfter : nil)
    }

    @Test func eachProviderPresentingOneHasItsExpiryAndLosesItWhenGone() throws {
        let metrics = GatewayMetrics()
        let (mutual, expiry) = try Self.definition("trust-mtls")
        let (plain, _) = try Self.definition("gp", mutualTLS: false)
        metrics.recordClientCertificates(of: [mutual, plain])
        let text = metrics.exposition()
        let expected = #"\#(Self.series){provider="trust-mtls"} "#
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(expected) })
        #expect(Double(line.dropFirst(expected.count)) == expiry?.timeIntervalSince1970.rounded(.down))
        #expect(!text.contains(#"provider="gp""#))
        #expect(text.contains("# HELP \(Self.series) "))
        // Removed (or no longer presenting one): the series goes, so no alert outlives the provider.
        metrics.recordClientCertificates(of: [plain])
        #expect(!metrics.exposition().contains(#"provider="trust-mtls""#))
    }

    @Test func aScrapeReportsAProviderRegisteredThroughTheAdminAPI() async throws {
        let (mutual, _) = try Self.definition("trust-mtls")
        try await LiveGateway.run { gateway in
            try gateway.providers.register(mutual)
            let text = try await MetricsTests.scrape(gateway)
            #expect(text.contains(#"\#(Self.series){provider="trust-mtls"} "#))
            #expect(gateway.endpoints.allSatisfy { !text.contains(#"\#(Self.series){provider="\#($0.id.rawValue)"}"#) })
        }
    }
}

/// Information governance's backlog of break-glass queries awaiting review, counted in the audit store at most once
/// per interval, with the oldest one's time while there is any.
@Suite struct ReviewBacklogMetricTests {
    static func value(_ text: String, _ name: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.dropFirst(name.count + 1)) }
    }

    @Test func theBacklogIsReadAtMostOncePerIntervalAndTheOldestGoesWithIt() async {
        let metrics = GatewayMetrics()
        let oldest = Date(timeIntervalSince1970: 1_796_000_000)
        let reads = Mutex(0)
        await metrics.refreshReviewBacklog(every: .seconds(60)) {
            reads.withLock { $0 += 1 }
            return ReviewBacklog(queries: 3, oldest: oldest)
        }
        var text = metrics.exposition()
        #expect(Self.value(text, "caregate_break_glass_awaiting_review") == 3)
        #expect(Self.value(text, "caregate_break_glass_oldest_awaiting_review_timestamp_seconds") == oldest.timeIntervalSince1970)
        // Within the interval the store is not asked again.
        await metrics.refreshReviewBacklog(every: .seconds(60)) {
            reads.withLock { $0 += 1 }
            return ReviewBacklog(queries: 0, oldest: nil)
        }
        #expect(reads.withLock { $0 } == 1)
        // A failed read leaves the figures; then, all reviewed, the oldest's series goes.
        await metrics.refreshReviewBacklog(every: .zero) { nil }
        #expect(Self.value(metrics.exposition(), "caregate_break_glass_awaiting_review") == 3)
        await metrics.refreshReviewBacklog(every: .zero) { ReviewBacklog(queries: 0, oldest: nil) }
        text = metrics.exposition()
        #expect(Self.value(text, "caregate_break_glass_awaiting_review") == 0)
        #expect(!text.contains("caregate_break_glass_oldest_awaiting_review_timestamp_seconds "))
    }
}

/// The most patients any one user reached in the last hour, counted in the audit store at most once per interval.
@Suite struct AccessVolumeMetricTests {
    @Test func theCountIsReadAtMostOncePerIntervalAndAFailedReadLeavesIt() async {
        let metrics = GatewayMetrics()
        let name = "caregate_access_most_patients_per_user_last_hour"
        let reads = Mutex(0)
        await metrics.refreshAccessVolume(every: .seconds(300)) {
            reads.withLock { $0 += 1 }
            return 140
        }
        #expect(ReviewBacklogMetricTests.value(metrics.exposition(), name) == 140)
        await metrics.refreshAccessVolume(every: .seconds(300)) {
            reads.withLock { $0 += 1 }
            return 3
        }
        #expect(reads.withLock { $0 } == 1)
        #expect(ReviewBacklogMetricTests.value(metrics.exposition(), name) == 140)
        await metrics.refreshAccessVolume(every: .zero) { nil }
        #expect(ReviewBacklogMetricTests.value(metrics.exposition(), name) == 140)
        await metrics.refreshAccessVolume(every: .zero) { 3 }
        #expect(ReviewBacklogMetricTests.value(metrics.exposition(), name) == 3)
    }
}
