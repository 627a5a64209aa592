import CareRecords
import Foundation
import GatewayServer
import ProviderSimulator
import Testing

/// A provider is a network peer, not a friend. Each hostile or broken answer must end as that provider's
/// `error` (or `timeout`) with a short reason, with nothing read from the local disk and every other provider's
/// entries intact — for each of the three parsing paths (FHIR, CDA, mapped XML).
@Suite struct HostileProviderTests {
    static let cases: [(fault: String, status: String, reason: String)] = [
        ("doctype", "error", "DOCTYPE not allowed"),
        ("xxe", "error", "DOCTYPE not allowed"),
        ("entity-bomb", "error", "DOCTYPE not allowed"),
        ("deep", "error", "nested deeper than"),
        ("oversize:20000000", "error", "response larger than"),
        ("oversize-chunked:20000000", "error", "response larger than"),
        ("cut-off", "error", "connection reset by provider"),
        ("drip:100", "timeout", "no answer within"),
        ("bad-utf8", "error", "invalid UTF-8"),
        ("wrong-type", "error", "unexpected content type"),
        ("truncated", "error", "malformed XML"),
    ]

    static let providers: [ProviderID] = [SimulatedProviderID.gp, SimulatedProviderID.nhs111, SimulatedProviderID.ambulance]

    static var arguments: [(ProviderID, String, String, String)] {
        providers.flatMap { provider in cases.map { (provider, $0.fault, $0.status, $0.reason) } }
    }

    @Test(arguments: arguments)
    func aHostileAnswerIsThatProvidersFailureAlone(
        _ provider: ProviderID, _ faultText: String, _ status: String, _ reason: String
    ) async throws {
        let fault = try SimulatedFault(parsing: faultText)
        let demo = LiveGateway.population.demoPatient
        try await LiveGateway.run(deadlineMilliseconds: 700, faults: [provider: fault]) { gateway in
            let (view, _, elapsed) = try await gateway.record(demo.nhsNumber)
            #expect(elapsed < .milliseconds(900), "took \(elapsed)")
            let line = try #require(view.provider(provider))
            #expect(line.status == status, "\(faultText) at \(provider): \(line.error ?? "")")
            #expect(line.error?.contains(reason) == true, "\(faultText) at \(provider): \(line.error ?? "")")
            #expect(line.entries == 0)
            #expect(view.entries(from: provider).isEmpty)
            for other in view.providers where other.id != provider.rawValue {
                #expect(other.status == "ok", "\(other.id) was spoiled by \(provider)'s \(faultText): \(other.error ?? "")")
                #expect(!view.entries(from: ProviderID(other.id)).isEmpty)
            }
            // Nothing from the local disk reached the view (an XXE would put /etc/passwd's "root:x:0:0" here).
            let json = String(decoding: try JSONEncoder().encode(view), as: UTF8.self)
            #expect(!json.contains("root:x:"))
            #expect(!json.contains("/bin/"))
        }
    }
}
