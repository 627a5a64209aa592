import CareGateTesting
import CareRecords
import FanOut
import Providers
import Testing

/// The breaker's transitions, driven by hand with explicit instants: no sockets, no sleeps.
@Suite struct CircuitBreakerTests {
    let t0 = ContinuousClock.now

    @Test func opensAfterConsecutiveFailuresAndRefusesUntilTheCoolDownEnds() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 3, coolDown: .seconds(5)))
        for _ in 0..<2 {
            let permitted1 = breaker.permit(at: t0)
            #expect(permitted1)
            breaker.recordFailure(at: t0)
        }
        #expect(breaker.state == .closed)
        breaker.recordFailure(at: t0)
        #expect(breaker.state == .open(until: t0 + .seconds(5)))
        let permitted2 = breaker.permit(at: t0 + .seconds(4))
        #expect(!permitted2)
    }

    @Test func aSuccessResetsTheConsecutiveCount() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 3, window: 100, minimumCalls: 100))
        for _ in 0..<10 {
            breaker.recordFailure(at: t0)
            breaker.recordFailure(at: t0)
            breaker.recordSuccess(at: t0)
        }
        #expect(breaker.state == .closed)
    }

    @Test func opensOnTheErrorRateOverTheWindow() {
        var breaker = CircuitBreaker(
            configuration: .init(failureThreshold: 100, errorRate: 0.5, window: 10, minimumCalls: 10))
        // Alternating: never two failures in a row, but half of the last ten fail.
        for index in 0..<9 {
            if index.isMultiple(of: 2) { breaker.recordSuccess(at: t0) } else { breaker.recordFailure(at: t0) }
        }
        #expect(breaker.state == .closed)  // only nine calls so far: below the minimum
        breaker.recordFailure(at: t0)
        #expect(breaker.state == .open(until: t0 + .seconds(5)))
    }

    @Test func halfOpenLetsOneProbeThroughAndItsOutcomeDecides() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 1, coolDown: .seconds(1)))
        breaker.recordFailure(at: t0)
        let later = t0 + .seconds(1)
        let permitted3 = breaker.permit(at: later)
        #expect(permitted3)
        #expect(breaker.state == .halfOpen(probeInFlight: true))
        let permitted4 = breaker.permit(at: later)
        #expect(!permitted4, "only one probe at a time")

        var failed = breaker
        failed.recordFailure(at: later)
        #expect(failed.state == .open(until: later + .seconds(1)))

        breaker.recordSuccess(at: later)
        #expect(breaker.state == .closed)
        let permitted5 = breaker.permit(at: later)
        #expect(permitted5)
    }

    @Test func anAbandonedProbeLetsAnotherGo() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 1, coolDown: .seconds(1)))
        breaker.recordFailure(at: t0)
        let permitted6 = breaker.permit(at: t0 + .seconds(2))
        #expect(permitted6)
        breaker.recordAbandoned()
        let permitted7 = breaker.permit(at: t0 + .seconds(2))
        #expect(permitted7)
    }
}

@Suite struct FanOutCircuitTests {
    let patient = try! NHSNumber("9990000018")

    @Test func aProviderThatKeepsFailingIsReportedCircuitOpenWithoutBeingCalled() async {
        let failing = FakeAdapter(
            definition: ProviderDefinition(
                id: "flaky", name: "flaky", kind: .gp, ods: "X", format: .fhirR4XML, urlTemplate: "http://127.0.0.1:1/{nhs}",
                timeoutMilliseconds: 1000, categories: [.medication],
                circuitBreaker: CircuitBreakerSettings(failureThreshold: 2, coolDown: .seconds(60))),
            .fail(after: .zero, .error("HTTP 500 from provider")))
        let healthy = FakeAdapter("gp", .answer(after: .zero, entries: 1))
        let breakers = CircuitBreakers()
        let fanOut = FanOut(adapters: [failing, healthy], breakers: breakers)

        for _ in 0..<2 {
            let result = await fanOut.query(patient, deadline: .now + .seconds(1))
            #expect(result.outcomes[0].status == .error)
        }
        let result = await fanOut.query(patient, deadline: .now + .seconds(1))
        #expect(result.outcomes[0].status == .circuitOpen)
        #expect(result.outcomes[0].latencyMilliseconds == 0)
        #expect(result.outcomes[1].status == .ok)
        #expect(!result.isComplete)
        #expect(failing.calls.load(ordering: .relaxed) == 2, "an open circuit must not call the provider")
        #expect(breakers.states["flaky"]?.name == "open")
        #expect(breakers.states["gp"] == .closed)
    }
}
