import CareRecords
import GatewayServer
import ProviderSimulator
import Testing

/// Providers that state their encoding only in HTTP (`Content-Type: …; charset=…`, no XML declaration): every
/// simulated provider, in each format, answers so, and the view must be the one they give in UTF-8. UTF-16 without
/// a byte order mark is the telling case: its bytes say nothing of their encoding, so only a charset carried from
/// the response's header to the decoder reads it.
@Suite struct TransportCharsetLiveTests {
    @Test func aCharsetStatedOnlyInTheContentTypeGivesTheSameView() async throws {
        let demo = LiveGateway.population.demoPatient
        try await LiveGateway.run { gateway in
            let expected = try await gateway.record(demo.nhsNumber).view
            #expect(expected.providers.count == gateway.endpoints.count)
            #expect(expected.providers.allSatisfy { $0.status == "ok" })
            for charset in SimulatedCharset.allCases {
                gateway.simulator.setFaultForAll(.charset(charset))
                let view = try await gateway.record(demo.nhsNumber).view
                for line in view.providers {
                    #expect(line.status == "ok", "\(charset.rawValue) at \(line.id): \(line.error ?? "")")
                }
                #expect(view.entries == expected.entries, "\(charset.rawValue)")
            }
        }
    }
}
