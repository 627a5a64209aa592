import Testing

@testable import ProviderSimulator

@Suite("Log-normal delays")
struct LogNormalDelayTests {
    @Test("draws have the median and 99th percentile asked for, and never exceed the cap")
    func percentiles() {
        var generator = SplitMix64(seed: 7)
        let draws = (0..<40_000).map { _ in generator.logNormal(median: 40, p99: 300, cap: 600_000) }.sorted()
        let median = Double(draws[draws.count / 2])
        let p99 = Double(draws[draws.count * 99 / 100])
        #expect(abs(median - 40) <= 2, "median \(median) ms, wanted 40")
        #expect(abs(p99 - 300) <= 30, "p99 \(p99) ms, wanted 300")
        #expect(draws.first! >= 0)

        var capped = SplitMix64(seed: 7)
        #expect((0..<10_000).allSatisfy { _ in capped.logNormal(median: 40, p99: 300, cap: 100) <= 100 })
    }

    @Test("the fault hands out those delays, from the seeded sequence")
    func faultState() throws {
        let first = ProviderFaultState(seed: 11)
        let second = ProviderFaultState(seed: 11)
        first.fault = .logNormalDelay(medianMilliseconds: 40, p99Milliseconds: 300)
        second.fault = .logNormalDelay(medianMilliseconds: 40, p99Milliseconds: 300)
        let delays = (0..<200).map { _ in first.nextAction() }
        #expect(delays == (0..<200).map { _ in second.nextAction() })
        let milliseconds = delays.compactMap { action -> Int? in
            if case .delay(let milliseconds) = action { return milliseconds }
            return nil
        }
        #expect(milliseconds.count == 200)
        #expect(Set(milliseconds).count > 50, "delays vary")
    }
}
