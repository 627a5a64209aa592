import CareGateTesting
import CareRecords
import Providers
import Testing

@testable import FanOut

/// A provider's timeout is noticed by whichever comes first, the fan-out's timer or the adapter's own clock; a
/// portal (and an operator reading the logs) sees it worded the same either way.
@Suite struct TimeoutWordingTests {
    let patient = try! NHSNumber("9990000018")

    @Test func aTimeoutTheAdapterNoticesAtTheDeadlineReadsAsTheFanOutTimersDoes() async {
        let start = ContinuousClock.now
        let adapter = FakeAdapter("slow", .fail(after: .milliseconds(80), .timeout()))
        let outcome = await FanOut.ask(adapter, patient, deadline: start + .milliseconds(50), start: start)
        #expect(outcome.status == .timeout)
        #expect(outcome.error == "no answer within 50 ms")
        #expect(outcome.latencyMilliseconds >= 80)
    }

    @Test func aTimeoutBeforeTheDeadlineKeepsItsOwnReason() async {
        let start = ContinuousClock.now
        let adapter = FakeAdapter("unreachable", .fail(after: .zero, .timeout("connect timed out")))
        let outcome = await FanOut.ask(adapter, patient, deadline: start + .seconds(5), start: start)
        #expect(outcome.status == .timeout)
        #expect(outcome.error == "connect timed out")
    }
}
