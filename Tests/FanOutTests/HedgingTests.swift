import CareGateTesting
import CareRecords
import FanOut
import Foundation
import Providers
import Synchronization
import Testing

/// A provider whose n-th call answers after `delays[n]` (the last delay repeats), and that counts calls and
/// cancellations.
final class ScriptedAdapter: ProviderAdapter, Sendable {
    let definition: ProviderDefinition
    let delays: [Duration]
    private let calls = Atomic(0)
    private let cancellations = Atomic(0)
    var callCount: Int { calls.load(ordering: .relaxed) }
    var cancelled: Int { cancellations.load(ordering: .relaxed) }

    init(hedge: Bool, delays: [Duration]) {
        var definition = ProviderDefinition(
            id: "gp", name: "gp", kind: .gp, ods: "X", format: .fhirR4XML, urlTemplate: "http://127.0.0.1:1/{nhs}",
            timeoutMilliseconds: 5_000, categories: Set(EntryCategory.allCases))
        definition.hedge = hedge
        self.definition = definition
        self.delays = delays
    }

    func fetch(_ patient: NHSNumber, deadline: ContinuousClock.Instant) async throws(ProviderFailure) -> DecodedRecord {
        let index = calls.add(1, ordering: .relaxed).oldValue
        do {
            try await Task.sleep(for: delays[min(index, delays.count - 1)])
        } catch {
            cancellations.add(1, ordering: .relaxed)
            throw .timeout()
        }
        return DecodedRecord(entries: [
            CareEntry(category: .medication, summary: "call \(index)", source: SourceReference(provider: "gp", id: "\(index)"))
        ])
    }
}

@Suite struct HedgingTests {
    static let patient = try! NHSNumber("9990000018")

    /// 20 quick answers teach the tracker this provider's p95.
    static func warmedUp(at latency: Duration = .milliseconds(20)) -> ProviderLatencies {
        let latencies = ProviderLatencies()
        for _ in 0..<ProviderLatencies.minimumSamples { latencies.record("gp", latency) }
        return latencies
    }

    @Test func aRequestSlowerThanTheRecentP95GetsASecondAndTheFirstGoodAnswerWins() async throws {
        let adapter = ScriptedAdapter(hedge: true, delays: [.seconds(2), .milliseconds(10)])
        let fanOut = FanOut(adapters: [adapter], latencies: Self.warmedUp())
        let started = ContinuousClock.now
        let result = await fanOut.query(Self.patient, deadline: .now + .seconds(4))
        #expect(started.duration(to: .now) < .milliseconds(500))
        #expect(result.outcomes.first?.status == .ok)
        #expect(result.outcomes.first?.entries.first?.summary == "call 1", "the hedge's answer, not the slow first")
        #expect(adapter.callCount == 2)
        // The loser is cancelled, not left running.
        try await Task.sleep(for: .milliseconds(100))
        #expect(adapter.cancelled == 1)
    }

    @Test func aQuickAnswerSendsNoHedge() async throws {
        let adapter = ScriptedAdapter(hedge: true, delays: [.milliseconds(5)])
        // A p95 far above the 5 ms answers, so a busy machine delaying one of them cannot make it look slow.
        let fanOut = FanOut(adapters: [adapter], latencies: Self.warmedUp(at: .milliseconds(500)))
        for _ in 0..<5 { _ = await fanOut.query(Self.patient, deadline: .now + .seconds(2)) }
        #expect(adapter.callCount == 5)
    }

    @Test func noHedgeWithoutOptInOrBeforeThereIsAP95() async throws {
        let notOptedIn = ScriptedAdapter(hedge: false, delays: [.milliseconds(300), .milliseconds(10)])
        let result = await FanOut(adapters: [notOptedIn], latencies: Self.warmedUp())
            .query(Self.patient, deadline: .now + .seconds(2))
        #expect(notOptedIn.callCount == 1)
        #expect(result.outcomes.first?.entries.first?.summary == "call 0")

        let unknown = ScriptedAdapter(hedge: true, delays: [.milliseconds(300), .milliseconds(10)])
        _ = await FanOut(adapters: [unknown], latencies: ProviderLatencies()).query(Self.patient, deadline: .now + .seconds(2))
        #expect(unknown.callCount == 1)
    }

    @Test func theP95IsOverRecentAnswers() {
        let latencies = ProviderLatencies()
        for millisecond in 1...100 { latencies.record("gp", .milliseconds(millisecond)) }
        #expect(latencies.p95("gp") == .milliseconds(95))
        #expect(latencies.p95("other") == nil)
    }
}
