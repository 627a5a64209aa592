import CareGateTesting
import CareRecords
import FanOut
import Providers
import Synchronization
import Testing

@Suite struct FanOutTests {
    let patient = try! NHSNumber("9990000018")

    @Test func everyProviderThatAnswersIsOkWithItsEntries() async {
        let fanOut = FanOut(adapters: [
            FakeAdapter("a", .answer(after: .milliseconds(5), entries: 3)),
            FakeAdapter("b", .answer(after: .milliseconds(20), entries: 2)),
        ])
        let result = await fanOut.query(patient, deadline: .now + .seconds(2))
        #expect(result.outcomes.map(\.status) == [.ok, .ok])
        #expect(result.outcomes.map { $0.entries.count } == [3, 2])
        #expect(result.isComplete)
        #expect(result.entries.count == 5)
        #expect(result.outcomes[1].latencyMilliseconds >= 20)
    }

    @Test func providersRunConcurrently() async {
        let fanOut = FanOut(adapters: (0..<6).map { FakeAdapter("p\($0)", .answer(after: .milliseconds(200), entries: 1)) })
        let start = ContinuousClock.now
        let result = await fanOut.query(patient, deadline: .now + .seconds(5))
        let elapsed = start.duration(to: .now)
        #expect(result.outcomes.allSatisfy { $0.status == .ok })
        // Sequential calls would take 1.2 s.
        #expect(elapsed < .milliseconds(1_000))
    }

    @Test func aHangingProviderIsReportedAtTheDeadlineAndNotWaitedFor() async {
        let fanOut = FanOut(adapters: [
            FakeAdapter("fast", .answer(after: .milliseconds(10), entries: 4)),
            FakeAdapter("stuck", .hangIgnoringCancellation),
        ])
        let start = ContinuousClock.now
        let result = await fanOut.query(patient, deadline: .now + .milliseconds(300))
        let elapsed = start.duration(to: .now)
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .milliseconds(500))
        #expect(result.outcomes.map(\.status) == [.ok, .timeout])
        #expect(result.outcomes[0].entries.count == 4)
        #expect(result.outcomes[1].entries.isEmpty)
        #expect(result.outcomes[1].error?.contains("300 ms") == true)
        #expect(!result.isComplete)
    }

    @Test func aProviderTimeoutShorterThanTheDeadlineApplies() async {
        let fanOut = FanOut(adapters: [
            FakeAdapter("slow", timeoutMilliseconds: 100, .answer(after: .seconds(3), entries: 1)),
        ])
        let start = ContinuousClock.now
        let result = await fanOut.query(patient, deadline: .now + .seconds(2))
        #expect(start.duration(to: .now) < .milliseconds(400))
        #expect(result.outcomes[0].status == .timeout)
        #expect(result.outcomes[0].latencyMilliseconds == 100)
    }

    /// One watchdog serves every provider of a query: each unanswered one is reported at its own time limit.
    @Test func hangingProvidersAreEachReportedAtTheirOwnTimeout() async {
        let fanOut = FanOut(adapters: [
            FakeAdapter("later", timeoutMilliseconds: 300, .hangIgnoringCancellation),
            FakeAdapter("sooner", timeoutMilliseconds: 100, .hangIgnoringCancellation),
            FakeAdapter("also-sooner", timeoutMilliseconds: 100, .hangIgnoringCancellation),
        ])
        let start = ContinuousClock.now
        let result = await fanOut.query(patient, deadline: .now + .seconds(2))
        let elapsed = start.duration(to: .now)
        #expect(elapsed >= .milliseconds(300) && elapsed < .milliseconds(600))
        #expect(result.outcomes.map(\.status) == [.timeout, .timeout, .timeout])
        #expect(result.outcomes.map(\.latencyMilliseconds) == [300, 100, 100])
    }

    @Test func aFailingProviderSpoilsNothingElse() async {
        let fanOut = FanOut(adapters: [
            FakeAdapter("bad", .fail(after: .milliseconds(1), .error("HTTP 500 from provider"))),
            FakeAdapter("good", .answer(after: .milliseconds(30), entries: 2)),
        ])
        let result = await fanOut.query(patient, deadline: .now + .seconds(2))
        #expect(result.outcomes[0].status == .error)
        #expect(result.outcomes[0].error == "HTTP 500 from provider")
        #expect(result.outcomes[1].status == .ok)
        #expect(result.entries.count == 2)
    }

    @Test func providersWithNoWantedCategoryAreSkippedAndNotCalled() async {
        let allergies = FakeAdapter("allergies", categories: [.allergy], .answer(after: .zero, entries: 2))
        let documents = FakeAdapter("documents", categories: [.document], .answer(after: .zero, entries: 2))
        let result = await FanOut(adapters: [allergies, documents]).query(
            patient, categories: [.allergy], deadline: .now + .seconds(1))
        #expect(result.outcomes.map(\.status) == [.ok, .skipped])
        #expect(documents.calls.load(ordering: .relaxed) == 0)
        // Entries outside the wanted categories are dropped even from providers that sent them.
        #expect(result.entries.allSatisfy { $0.category == .allergy })
        #expect(result.isComplete)
    }

    @Test func cancellingTheQueryReturnsPromptly() async {
        let fanOut = FanOut(adapters: [FakeAdapter("stuck", .hangIgnoringCancellation)])
        let task = Task { await fanOut.query(patient, deadline: .now + .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(50))
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.value
        #expect(start.duration(to: .now) < .milliseconds(500))
        #expect(result.outcomes[0].status != .ok)
    }
}
