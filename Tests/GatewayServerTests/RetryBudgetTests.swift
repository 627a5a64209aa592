import CareRecords
import Foundation
import GatewayServer
import ProviderSimulator
import Providers
import Testing

@Suite struct RetryBudgetTests {
    @Test func retriesAreAtMostTheConfiguredShareOfRequests() {
        let budget = RetryBudget(ratio: 0.25)
        var retries = 0
        for _ in 0..<100 {
            budget.recordRequest()
            if budget.withdraw() { retries += 1 }
        }
        #expect(retries == 25)
        #expect(!RetryBudget(ratio: 0).withdraw())

        // Saved-up tokens are capped, so a quiet spell does not buy a burst of retries later.
        let capped = RetryBudget(ratio: 1, cap: 3)
        for _ in 0..<100 { capped.recordRequest() }
        #expect((0..<10).filter { _ in capped.withdraw() }.count == 3)
    }

    /// The simulated GP resets a seeded share of connections before answering; the gateway's adapter for it is
    /// re-registered with the settings under test (and a breaker that never opens, so every query calls it).
    func run(
        _ gateway: LiveGateway, budget: Double, queries: Int
    ) async throws -> (errors: Int, retries: Int) {
        var definition = try #require(gateway.providers.definitions.first { $0.id == SimulatedProviderID.gp })
        definition.retryBudget = budget
        definition.circuitBreaker = CircuitBreakerSettings(failureThreshold: 1000, errorRate: 1, window: 1000, minimumCalls: 1000)
        _ = try gateway.providers.register(definition)
        let adapter = try #require(gateway.providers.current.first { $0.definition.id == SimulatedProviderID.gp } as? HTTPProviderAdapter)
        var errors = 0
        for patient in LiveGateway.population.patients.prefix(queries) {
            let (view, _, _) = try await gateway.record(patient.nhsNumber)
            if view.provider(SimulatedProviderID.gp)?.status == "error" { errors += 1 }
        }
        return (errors, adapter.retries)
    }

    @Test func aConnectionResetBeforeAnyAnswerIsRetriedWithinTheBudget() async throws {
        try await LiveGateway.run(faults: [SimulatedProviderID.gp: .flaky(percent: 40)]) { gateway in
            let without = try await run(gateway, budget: 0, queries: 40)
            #expect(without.retries == 0)
            #expect(without.errors >= 5, "the fault must bite for the comparison to mean anything")

            let with = try await run(gateway, budget: 1, queries: 40)
            #expect(with.retries > 0)
            #expect(with.retries <= 40)
            #expect(with.errors < without.errors)
        }
    }

    /// Retrying is for a request that never got an answer. Once the head has arrived the provider has begun to
    /// answer — resending could double its work, and it is no longer "before any byte" — so a cut is a failure.
    @Test func anAnswerCutOffAfterItBeganIsNotRetried() async throws {
        try await LiveGateway.run(faults: [SimulatedProviderID.gp: .cutOff]) { gateway in
            let result = try await run(gateway, budget: 1, queries: 10)
            #expect(result.errors == 10)
            #expect(result.retries == 0)
        }
    }

    @Test func aProviderThatIsDownIsNotHammered() async throws {
        try await LiveGateway.run(faults: [SimulatedProviderID.gp: .connectionReset]) { gateway in
            let result = try await run(gateway, budget: 0.2, queries: 40)
            #expect(result.errors == 40)
            // One retry per five requests at most: the budget, not the failures, sets the pace.
            #expect(result.retries <= 8)
            #expect(result.retries >= 7)
        }
    }
}

@Suite struct ProviderDeadlineTests {
    @Test func eachProviderIsToldTheRemainingBudgetLessASafetyMargin() async throws {
        try await LiveGateway.run(deadlineMilliseconds: 2_000) { gateway in
            let patient = LiveGateway.population.demoPatient.nhsNumber
            _ = try await gateway.record(patient)
            // The GP's own timeout (800 ms) is shorter than the query's deadline, so it rules; the margin is a
            // tenth, at most 50 ms.
            let told = try #require(gateway.simulator.lastDeadlineMilliseconds(for: SimulatedProviderID.gp))
            #expect((730...750).contains(told), "told \(told) ms")

            // A client's shorter deadline reaches the providers too.
            _ = try await gateway.client.execute(
                uri: "/v1/patients/\(patient.digits)/record", method: .get,
                headers: try await gateway.access.headers(patient: patient) + [.careGateDeadline: "200"]) { $0.status }
            let shortened = try #require(gateway.simulator.lastDeadlineMilliseconds(for: SimulatedProviderID.gp))
            #expect((165...180).contains(shortened), "told \(shortened) ms")
        }
    }
}

/// Every provider asked is told the gateway's request id for the query, the one the client's answer, the logs and
/// the audit name, so a provider team can find the request in its own logs.
@Suite struct ProviderRequestIDTests {
    @Test func eachProviderIsToldTheQuerysRequestID() async throws {
        try await LiveGateway.run { gateway in
            let patient = LiveGateway.population.demoPatient.nhsNumber
            let headers = try await gateway.access.headers(patient: patient)
            for uri in ["/v1/patients/\(patient.digits)/record", "/v1/patients/\(patient.digits)/record/stream"] {
                let answered = try await gateway.client.execute(uri: uri, method: .get, headers: headers) {
                    $0.headers[.careGateRequestID]
                }
                let requestID = try #require(answered, "\(uri)")
                for provider in gateway.endpoints.map(\.id) {
                    #expect(gateway.simulator.lastRequestID(for: provider) == requestID, "\(uri) \(provider)")
                }
                let audited = try await gateway.access.control.audit.records(patient: patient)
                #expect(audited.last?.record.requestID == requestID)
            }
        }
    }

    @Test func onlyAWellFormedUpstreamIDIsLogged() {
        #expect(QueryCorrelation.isWellFormed("1a7f0386-edc6-4191-b8a6-d355bed118d6"))
        #expect(QueryCorrelation.isWellFormed("req_2026.12.07"))
        for bad in ["", String(repeating: "a", count: 65), "9993529893 opened", "id\nforged-line", "café"] {
            #expect(!QueryCorrelation.isWellFormed(bad), "\(bad)")
        }
    }
}
