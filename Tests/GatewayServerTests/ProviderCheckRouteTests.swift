import CareRecords
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProviderSimulator
import Testing

@testable import GatewayServer

/// `POST /admin/providers/{id}/check`: a registered provider's answers for test patients, fetched, validated
/// against the format's schema and decoded, as `caregate providers check` does from the command line.
@Suite struct ProviderCheckRouteTests {
    static let demo = LiveGateway.population.demoPatient.nhsNumber

    static func check(
        _ gateway: LiveGateway, _ id: String, body: String, headers: HTTPFields? = nil
    ) async throws -> (HTTPResponse.Status, [String: Any], String?) {
        let operatorHeaders = try await gateway.access.operatorHeaders()
        let headers = headers ?? operatorHeaders
        return try await gateway.client.execute(
            uri: "/admin/providers/\(id)/check", method: .post, headers: headers, body: ByteBuffer(string: body)
        ) { response in
            let data = Data(buffer: response.body)
            return (
                response.status, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:],
                try? OutcomeBody(data).code
            )
        }
    }

    @Test(arguments: [("gp", "fhir-single.xsd"), ("nhs111", "CDA_SDTC.xsd"), ("care-home", "care-home.xsd")])
    func eachFormatIsFetchedValidatedAndDecoded(_ id: String, _ schema: String) async throws {
        try await LiveGateway.run { gateway in
            let (status, report, _) = try await Self.check(gateway, id, body: #"{"patients": ["\#(Self.demo.digits)"]}"#)
            #expect(status == .ok)
            #expect(report["provider"] as? String == id)
            #expect(report["schema"] as? String == schema)
            #expect(report["passed"] as? Bool == true, "\(report)")
            let patient = try #require((report["patients"] as? [[String: Any]])?.first)
            #expect(patient["nhsNumber"] as? String == Self.demo.digits)
            #expect(patient["httpStatus"] as? Int == 200)
            #expect((patient["schemaErrors"] as? [String])?.isEmpty == true)
            #expect(((patient["entries"] as? [String: Int]) ?? [:]).values.reduce(0, +) > 0)
        }
    }

    /// A provider that answers badly fails the check with the reason, and the report still comes back (200).
    @Test func aFailingProviderIsReportedNotRefused() async throws {
        try await LiveGateway.run(faults: [SimulatedProviderID.gp: .httpError(status: 500)]) { gateway in
            let (status, report, _) = try await Self.check(gateway, "gp", body: #"{"patients": ["\#(Self.demo.digits)"]}"#)
            #expect(status == .ok)
            #expect(report["passed"] as? Bool == false)
            let problems = ((report["patients"] as? [[String: Any]])?.first?["problems"] as? [String]) ?? []
            #expect(problems.contains { $0.contains("HTTP 500") }, "\(problems)")
        }
    }

    @Test func aBadRequestIsRefusedSayingWhy() async throws {
        try await LiveGateway.run { gateway in
            let eleven = "[" + Array(repeating: #""\#(Self.demo.digits)""#, count: 11).joined(separator: ",") + "]"
            let cases: [(String, String, HTTPResponse.Status, String?)] = [
                ("gp", "patients: all", .badRequest, "invalid-check"),
                ("gp", #"{"patients": []}"#, .badRequest, "invalid-check"),
                ("gp", #"{"patients": \#(eleven)}"#, .badRequest, "invalid-check"),
                ("gp", #"{"patients": ["999352989"]}"#, .badRequest, "invalid-nhs-number"),
                ("no-such-provider", #"{"patients": ["\#(Self.demo.digits)"]}"#, .notFound, "unknown-provider"),
            ]
            for (id, body, status, code) in cases {
                let (answered, _, answeredCode) = try await Self.check(gateway, id, body: body)
                #expect(answered == status, "\(id) \(body)")
                #expect(answeredCode == code, "\(id) \(body)")
            }
            let clinician = try await gateway.access.headers(patient: Self.demo)
            let (status, _, _) = try await Self.check(
                gateway, "gp", body: #"{"patients": ["\#(Self.demo.digits)"]}"#, headers: clinician)
            #expect(status == .forbidden)
        }
    }
}
