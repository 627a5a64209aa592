import CareGateTesting
import CareRecords
import Foundation
@testable import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Providers
import Testing

@Suite struct OperationalStatisticsTests {
    @Test func percentilesRatesAndTheChartSeriesComeFromTheWindow() {
        let statistics = OperationalStatistics()
        let start = ContinuousClock.now
        // 100 queries over 100 s: gp answers in 1…100 ms, every tenth call to the trust times out.
        for second in 0..<100 {
            statistics.record(
                providers: [("gp", "ok", second + 1), ("trust", second % 10 == 0 ? "timeout" : "ok", 40), ("docs", "skipped", 0)],
                queryDuration: .milliseconds(second + 3), slowestProvider: .milliseconds(second + 1),
                at: start + .seconds(second))
        }
        let now = start + .seconds(100)
        let snapshot = statistics.snapshot(
            providers: [("gp", "gp", "closed"), ("trust", "trust", "open"), ("docs", "trust", "closed")], at: now)
        let gp = snapshot.providers[0]
        #expect(gp.calls == 100)
        #expect(gp.p50Ms == 50)
        #expect(gp.p95Ms == 95)
        #expect(gp.p99Ms == 99)
        #expect(gp.errorRate == 0)
        let trust = snapshot.providers[1]
        #expect(trust.timeoutRate == 0.1)
        #expect(trust.circuit == "open")
        // A provider never called is still listed, with no figures.
        #expect(snapshot.providers[2].calls == 0)
        #expect(snapshot.providers[2].p50Ms == nil)
        // Overhead is query time minus the slowest provider: 2 ms every time (histograms hold it within 1 %).
        #expect(abs((snapshot.overheadP50Ms ?? 0) - 2) <= 0.02)
        #expect(abs((snapshot.overheadP99Ms ?? 0) - 2) <= 0.02)
        #expect(abs(snapshot.queriesPerSecond - 1) < 0.001)
        // 30 slices of 10 s, newest last (the current one, just begun): the 100 seconds fill the ten before it.
        #expect(gp.p95Series.count == 30)
        #expect(gp.p95Series.prefix(19).allSatisfy { $0 == nil })
        #expect(gp.p95Series.dropFirst(19).prefix(10).allSatisfy { $0 != nil })
        #expect(gp.p95Series.last == .some(nil))
        // The slice holding seconds 90…99 has gp at 91…100 ms.
        #expect(gp.p95Series[28] == 100)

        // Five minutes later everything has aged out.
        let later = statistics.snapshot(providers: [("gp", "gp", "closed")], at: now + .seconds(301))
        #expect(later.providers[0].calls == 0)
        #expect(later.queriesPerSecond == 0)
    }
}

extension OperationalStatisticsTests {
    /// The window is histograms per slice, not samples: once every slice has been used, memory stays where it is
    /// however many queries follow, and every call is still counted.
    @Test func memoryIsFixedWhateverTheLoad() {
        let statistics = OperationalStatistics()
        let start = ContinuousClock.now
        func load(_ queries: Int, over seconds: Int, from offset: Int) {
            for query in 0..<queries {
                let at = start + .seconds(offset) + .milliseconds(query * seconds * 1000 / queries)
                statistics.record(
                    providers: [("gp", "ok", query % 700), ("trust", "error", 40)], queryDuration: .milliseconds(query % 900),
                    slowestProvider: .milliseconds(query % 700), at: at)
            }
        }
        load(3_000, over: 300, from: 0)
        let filled = statistics.footprintBytes
        #expect(filled > 0)
        load(300_000, over: 300, from: 300)
        #expect(statistics.footprintBytes == filled)
        let snapshot = statistics.snapshot(providers: [("gp", "gp", "closed"), ("trust", "trust", "closed")], at: start + .seconds(599))
        #expect(snapshot.providers[0].calls == 300_000)
        #expect(snapshot.providers[1].errorRate == 1)
    }

    /// Latencies beyond what a histogram tracks still count, at its top.
    @Test func anOutlierIsCountedNotDropped() {
        let statistics = OperationalStatistics()
        let now = ContinuousClock.now
        statistics.record(providers: [("gp", "timeout", Int(Int32.max))], queryDuration: .seconds(7200), slowestProvider: .seconds(7200), at: now)
        let snapshot = statistics.snapshot(providers: [("gp", "gp", "closed")], at: now)
        #expect(snapshot.providers[0].calls == 1)
        #expect((snapshot.providers[0].p99Ms ?? 0) >= 3_600_000 * 0.99)
        #expect((snapshot.queryP99Ms ?? 0) >= 600_000 * 0.99)
    }
}

@Suite struct StatusPageTests {
    @Test func theStatusPageShowsEveryProviderWithItsFiguresAndIsSelfContained() async throws {
        try await withRouteGateway([
            FakeAdapter("gp", .answer(after: .milliseconds(5), entries: 2)),
            FakeAdapter("ambulance", kind: .ambulance, .fail(after: .zero, .error("HTTP 500"))),
        ]) { client, access in
            let headers = try await access.headers(patient: try NHSNumber("9990000018"))
            for _ in 0..<4 {
                _ = try await client.execute(uri: "/v1/patients/9990000018/record", method: .get, headers: headers) { $0.status }
            }
            try await client.execute(uri: "/status.json", method: .get) { response in
                #expect(response.status == .ok)
                let snapshot = try JSONDecoder().decode(OperationalStatistics.Snapshot.self, from: Data(buffer: response.body))
                #expect(snapshot.providers.map(\.id) == ["ambulance", "gp"])
                #expect(snapshot.providers.map(\.calls) == [4, 4])
                #expect(snapshot.providers[0].errorRate == 1)
                #expect((snapshot.providers[1].p50Ms ?? 0) >= 5)
                #expect(snapshot.overheadP50Ms != nil)
            }
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let html = String(buffer: response.body)
                #expect(html.contains(#"<meta http-equiv="refresh" content="5">"#))
                #expect(html.contains(">ambulance</td>") && html.contains(">gp</td>"))
                #expect(html.contains("100.0 %"))
                #expect(html.contains("<svg") && html.contains("<polyline") || html.contains("<circle"))
                // Nothing fetched from elsewhere: no scripts, no external stylesheets, fonts or images.
                #expect(!html.contains("<script"))
                #expect(!html.contains("src="))
                #expect(!html.contains("<link"))
                #expect(!html.contains("9990000018"))
            }
        }
    }
}
