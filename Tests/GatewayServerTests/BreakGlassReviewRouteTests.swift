import CareGateTesting
import CareRecords
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Policy
import Testing

@testable import GatewayServer

/// Information governance records its review of each break-glass query through the admin API: someone other than
/// the user who broke the glass, of emergency records only, and the review list then tells reviewed from awaiting.
@Suite struct BreakGlassReviewRouteTests {
    static let launched = try! NHSNumber("9990000018")
    static let (first, second) = (try! NHSNumber("9990000026"), try! NHSNumber("9990000034"))

    struct Exchange {
        var status: HTTPResponse.Status
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var code: String? { try? OutcomeBody(body).code }
    }

    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ headers: HTTPFields,
        body: String? = nil
    ) async throws -> Exchange {
        try await client.execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { Exchange(status: $0.status, body: Data(buffer: $0.body)) }
    }

    /// The AuditEvents of a break-glass review list: (id, patient, review extension) each.
    static func events(_ bundle: [String: Any]) -> [(id: String, patient: String?, review: [String: Any]?)] {
        ((bundle["entry"] as? [[String: Any]]) ?? []).compactMap { $0["resource"] as? [String: Any] }.map { event in
            let patient = (((event["entity"] as? [[String: Any]])?.first?["what"] as? [String: Any])?["identifier"]
                as? [String: String])?["value"]
            let review = (event["extension"] as? [[String: Any]])?.first {
                $0["url"] as? String == CareGateFHIRProfile.breakGlassReviewExtension
            }
            return (event["id"] as? String ?? "", patient, review)
        }
    }

    /// The value of one part of a review extension.
    static func part(_ review: [String: Any]?, _ url: String) -> Any? {
        guard let part = (review?["extension"] as? [[String: Any]])?.first(where: { $0["url"] as? String == url }) else {
            return nil
        }
        return part.first { $0.key.hasPrefix("value") }?.value
    }

    @Test func aReviewIsRecordedAndTheListTellsReviewedFromAwaiting() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 3))]) { client, access in
            for (patient, reason) in [(Self.first, "cardiac arrest"), (Self.second, "found collapsed")] {
                _ = try await AccessDecisionRouteTests.get(
                    client, patient,
                    try await access.headers(role: "R8001", patient: Self.launched, purpose: .emergency, breakGlassReason: reason))
            }
            let reviewer = try await access.operatorHeaders()
            let awaiting = try await Self.send(client, .get, "/admin/audit?purpose=emergency&reviewed=false", reviewer)
            #expect(awaiting.status == .ok)
            let listed = Self.events(awaiting.json)
            #expect(listed.map(\.patient) == [Self.first.digits, Self.second.digits])
            #expect(listed.allSatisfy { $0.review == nil })
            let id = listed[0].id
            // The operators' view of the same backlog, read from the store at the scrape.
            let scrape = try await Self.send(client, .get, "/metrics", [:])
            let exposition = String(decoding: scrape.body, as: UTF8.self)
            #expect(exposition.contains("\ncaregate_break_glass_awaiting_review 2"), "\(exposition.suffix(2000))")
            #expect(exposition.contains("\ncaregate_break_glass_oldest_awaiting_review_timestamp_seconds "))

            let made = try await Self.send(
                client, .post, "/admin/audit/\(id)/reviews", reviewer,
                body: #"{"outcome": "appropriate", "note": "  arrest confirmed in the ED notes \n"}"#)
            #expect(made.status == .created)
            let review = made.json
            #expect(review["outcome"] as? String == "appropriate")
            #expect(review["note"] as? String == "arrest confirmed in the ED notes")
            #expect(review["sequence"] as? Int == Int(id))
            #expect((review["reviewer"] as? [String: String])?["id"] == "demo-r8000")

            let reviews = try await Self.send(client, .get, "/admin/audit/\(id)/reviews", reviewer)
            #expect(reviews.status == .ok)
            #expect((reviews.json["reviews"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["appropriate"])

            let stillAwaiting = Self.events(
                try await Self.send(client, .get, "/admin/audit?purpose=emergency&reviewed=false", reviewer).json)
            #expect(stillAwaiting.map(\.patient) == [Self.second.digits])
            let reviewed = Self.events(
                try await Self.send(client, .get, "/admin/audit?purpose=emergency&reviewed=true", reviewer).json)
            #expect(reviewed.map(\.patient) == [Self.first.digits])
            #expect(Self.part(reviewed.first?.review, "outcome") as? String == "appropriate")
            #expect(Self.part(reviewed.first?.review, "note") as? String == "arrest confirmed in the ED notes")
            #expect(
                ((Self.part(reviewed.first?.review, "reviewer") as? [String: Any])?["identifier"] as? [String: String])?["value"]
                    == "demo-r8000")
            #expect(Self.part(reviewed.first?.review, "reviewed") is String)

            // A later review supersedes the first in the list; both are kept.
            _ = try await Self.send(client, .post, "/admin/audit/\(id)/reviews", reviewer, body: #"{"outcome": "follow-up"}"#)
            let all = Self.events(try await Self.send(client, .get, "/admin/audit?purpose=emergency", reviewer).json)
            #expect(Self.part(all.first?.review, "outcome") as? String == "follow-up")
            #expect(Self.part(all.first?.review, "note") == nil)
            let history = try await Self.send(client, .get, "/admin/audit/\(id)/reviews", reviewer)
            #expect((history.json["reviews"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["appropriate", "follow-up"])
        }
    }

    @Test func reviewsAreRefusedWithAReasonThatSaysWhy() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 1))]) { client, access in
            _ = try await AccessDecisionRouteTests.get(client, Self.launched, try await access.headers(patient: Self.launched))
            _ = try await AccessDecisionRouteTests.get(
                client, Self.first,
                try await access.headers(role: "R8001", patient: Self.launched, purpose: .emergency, breakGlassReason: "arrest"))
            let reviewer = try await access.operatorHeaders()
            let direct = Self.events(
                try await Self.send(client, .get, "/admin/audit?patient=\(Self.launched.digits)", reviewer).json)
            let emergency = Self.events(try await Self.send(client, .get, "/admin/audit?purpose=emergency", reviewer).json)
            let (directID, emergencyID) = (try #require(direct.first?.id), try #require(emergency.first?.id))
            let good = #"{"outcome": "appropriate"}"#
            let cases: [(String, HTTPFields, String?, HTTPResponse.Status, String)] = [
                ("/admin/audit/\(directID)/reviews", reviewer, good, .conflict, "not-break-glass"),
                ("/admin/audit/99999/reviews", reviewer, good, .notFound, "no-such-record"),
                ("/admin/audit/0/reviews", reviewer, good, .badRequest, "invalid-sequence"),
                ("/admin/audit/first/reviews", reviewer, good, .badRequest, "invalid-sequence"),
                ("/admin/audit/\(emergencyID)/reviews", reviewer, #"{"outcome": "fine"}"#, .badRequest, "invalid-outcome"),
                ("/admin/audit/\(emergencyID)/reviews", reviewer, "outcome: appropriate", .badRequest, "invalid-review"),
                ("/admin/audit/\(emergencyID)/reviews", reviewer, nil, .badRequest, "invalid-review"),
                (
                    "/admin/audit/\(emergencyID)/reviews", reviewer,
                    #"{"outcome": "appropriate", "note": "\#(String(repeating: "x", count: 1001))"}"#, .badRequest,
                    "note-too-long"
                ),
                // The user who broke the glass, even as an operator, does not review it.
                (
                    "/admin/audit/\(emergencyID)/reviews",
                    try await access.headers(role: "R8001", patient: Self.launched, admin: true), good, .forbidden, "own-access"
                ),
                // A clinician is not an operator.
                ("/admin/audit/\(emergencyID)/reviews", try await access.headers(patient: Self.launched), good, .forbidden, "forbidden"),
            ]
            for (uri, headers, body, status, code) in cases {
                let answer = try await Self.send(client, .post, uri, headers, body: body)
                #expect(answer.status == status, "\(uri) \(body ?? "no body")")
                if code != "forbidden" { #expect(answer.code == code, "\(uri) \(body ?? "no body")") }
            }
            #expect(try await Self.send(client, .get, "/admin/audit?purpose=emergency&reviewed=yes", reviewer).code == "invalid-reviewed")
            // Nothing refused was kept.
            let reviews = try await Self.send(client, .get, "/admin/audit/\(emergencyID)/reviews", reviewer)
            #expect(reviews.status == .ok)
            #expect((reviews.json["reviews"] as? [Any])?.isEmpty == true)
        }
    }

    /// Operators verify the hash chain through the API, as `caregate audit verify` does; a broken chain is reported
    /// with the first record at which it breaks.
    @Test func theChainIsVerifiedThroughTheAdminAPI() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 1))]) { client, access in
            _ = try await AccessDecisionRouteTests.get(client, Self.launched, try await access.headers(patient: Self.launched))
            _ = try await AccessDecisionRouteTests.get(client, Self.first, try await access.headers(patient: Self.launched))
            let verified = try await Self.send(client, .get, "/admin/audit/verification", try await access.operatorHeaders())
            #expect(verified.status == .ok)
            #expect(verified.json["intact"] as? Bool == true)
            #expect(verified.json["records"] as? Int == 2)
            let clinician = try await Self.send(
                client, .get, "/admin/audit/verification", try await access.headers(patient: Self.launched))
            #expect(clinician.status == .forbidden)
        }
        let broken = try JSONSerialization.jsonObject(
            with: try JSONEncoder().encode(ChainVerification(.broken(sequence: 7, reason: "hash does not match"))))
            as? [String: Any]
        #expect(broken?["intact"] as? Bool == false)
        #expect(broken?["brokenAt"] as? Int == 7)
        #expect(broken?["reason"] as? String == "hash does not match")
        #expect(broken?["records"] == nil)
    }

    /// An information governance reviewer (`caregate.audit`) has the audit routes and nothing else of the admin API.
    @Test func aReviewerHasTheAuditRoutesOnly() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 1))]) { client, access in
            _ = try await AccessDecisionRouteTests.get(
                client, Self.first,
                try await access.headers(role: "R8001", patient: Self.launched, purpose: .emergency, breakGlassReason: "arrest"))
            let reviewer = try await access.headers(role: "R0001", patient: Self.launched, auditor: true)
            let listed = try await Self.send(client, .get, "/admin/audit?purpose=emergency&reviewed=false", reviewer)
            #expect(listed.status == .ok)
            let id = try #require(Self.events(listed.json).first?.id)
            let made = try await Self.send(
                client, .post, "/admin/audit/\(id)/reviews", reviewer, body: #"{"outcome": "inappropriate"}"#)
            #expect(made.status == .created)
            #expect((made.json["reviewer"] as? [String: String])?["id"] == "demo-r0001")
            #expect(try await Self.send(client, .get, "/admin/audit/verification", reviewer).status == .ok)
            #expect(try await Self.send(client, .get, "/admin/audit?patient=\(Self.first.digits)", reviewer).status == .ok)

            for (method, uri) in [
                (HTTPRequest.Method.get, "/admin/providers"), (.put, "/admin/opt-outs/\(Self.first.digits)"),
                (.get, "/admin/opt-outs"), (.post, "/admin/providers/gp/reset"),
            ] {
                let refused = try await Self.send(client, method, uri, reviewer)
                #expect(refused.status == .forbidden, "\(method) \(uri)")
                #expect(refused.code == "operator-scope-required", "\(method) \(uri)")
            }
            #expect(try await access.control.optOuts.isOptedOut(Self.first) == false)
        }
        // Never through another gateway, whatever its token says.
        var federated = VerifiedCaller(
            userID: "ig-1", name: "Reviewer", organisation: "Y90001", role: "R0001", purpose: .directCare,
            launchPatient: Self.launched, scopes: [VerifiedCaller.auditorScope], expiresAt: .distantFuture)
        #expect(federated.isAuditor && !federated.isOperator)
        federated.viaGateway = "london-hub"
        #expect(!federated.isAuditor)
    }
}
