import CareGateTesting
import CareRecords
import Foundation
@testable import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import Policy
import Providers
import Testing

/// Authentication at the edge: every way a bearer token can be wrong is a 401 OperationOutcome, and no provider
/// is asked.
@Suite struct AuthenticationRouteTests {
    static let patient = try! NHSNumber("9990000018")
    static let uri = "/v1/patients/9990000018/record"

    /// Claims without `role`, signed properly: only the claims are at fault.
    struct ClaimsWithoutRole: JWTPayload {
        var sub: SubjectClaim
        var name: String
        var org: String
        var purpose: String
        var patient: String
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Each case: a name, how to make the `Authorization` value from the gateway's demo key, and the reason code.
    static let cases: [(String, @Sendable (DemoSigningKey) async throws -> String?, String)] = [
        ("no header", { _ in nil }, "missing-token"),
        ("not a JWT", { _ in "Bearer not-a-token" }, "malformed-token"),
        ("alg none", { key in
            "Bearer " + base64URL(#"{"alg":"none","kid":"\#(key.keyID)"}"#) + "."
                + base64URL(#"{"sub":"x"}"#) + "."
        }, "algorithm-not-allowed"),
        ("HS256 keyed with the public key", { key in
            "Bearer " + base64URL(#"{"alg":"HS256","kid":"\#(key.keyID)"}"#) + "."
                + base64URL(#"{"sub":"x"}"#) + "." + base64URL("forged-with-the-public-jwks")
        }, "algorithm-not-allowed"),
        ("expired", { key in
            "Bearer " + (try await key.sign(AccessClaims.demo(
                role: "R8000", patient: patient, ttl: .seconds(60), now: Date().addingTimeInterval(-3600))))
        }, "expired"),
        ("not yet valid", { key in
            "Bearer " + (try await key.sign(AccessClaims.demo(
                role: "R8000", patient: patient, ttl: .seconds(600), now: Date().addingTimeInterval(3600))))
        }, "not-yet-valid"),
        ("wrong issuer", { key in
            "Bearer " + (try await key.sign(AccessClaims.demo(role: "R8000", patient: patient, issuer: "https://evil.example")))
        }, "wrong-issuer"),
        ("wrong audience", { key in
            "Bearer " + (try await key.sign(AccessClaims.demo(role: "R8000", patient: patient, audience: "another-service")))
        }, "wrong-audience"),
        ("tampered payload", { key in
            let token = try await key.sign(AccessClaims.demo(role: "R8010", patient: patient))
            var parts = token.split(separator: ".").map(String.init)
            let payload = try #require(Data(base64Encoded: parts[1].padding(toLength: (parts[1].count + 3) / 4 * 4, withPad: "=", startingAt: 0)))
            parts[1] = base64URL(String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "R8010", with: "R8000"))
            return "Bearer " + parts.joined(separator: ".")
        }, "bad-signature"),
        ("missing role claim", { key in
            "Bearer " + (try await key.sign(ClaimsWithoutRole(
                sub: "u1", name: "A User", org: "RX1", purpose: "direct-care", patient: patient.digits,
                iss: IssuerClaim(value: DemoSigningKey.issuer), aud: AudienceClaim(value: [DemoSigningKey.audience]),
                exp: ExpirationClaim(value: Date().addingTimeInterval(600)))))
        }, "missing-claim"),
        ("another key", { _ in
            let stranger = try DemoSigningKey(dataDirectory: FileManager.default.temporaryDirectory
                .appendingPathComponent("caregate-stranger-\(UUID().uuidString)").path)
            defer { try? FileManager.default.removeItem(atPath: (stranger.path as NSString).deletingLastPathComponent) }
            return "Bearer " + (try await stranger.sign(AccessClaims.demo(role: "R8000", patient: patient)))
        }, "unknown-key"),
    ]

    @Test(arguments: cases.indices)
    func aBadTokenIs401WithAnOperationOutcomeAndNoProviderIsAsked(_ index: Int) async throws {
        let (name, makeHeader, reason) = Self.cases[index]
        let gp = FakeAdapter("gp", .answer(after: .zero, entries: 2))
        try await withRouteGateway([gp]) { client, access in
            var headers: HTTPFields = [:]
            if let value = try await makeHeader(access.key) { headers[.authorization] = value }
            try await client.execute(uri: Self.uri, method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized, "\(name)")
                #expect(response.headers[.contentType] == "application/fhir+json")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer realm="caregate""#) == true)
                let outcome = try OutcomeBody(Data(buffer: response.body))
                #expect(outcome.resourceType == "OperationOutcome")
                #expect(outcome.code == reason, "\(name)")
                #expect(outcome.issueType == (reason == "expired" ? "expired" : "login"))
            }
            // An unauthenticated request names no one, so it reaches neither a provider nor the audit trail.
            #expect(try await access.control.audit.records(patient: Self.patient).isEmpty)
        }
        #expect(gp.calls.load(ordering: .relaxed) == 0)
    }

    @Test func theAdminAPINeedsTheOperatorScope() async throws {
        try await withRouteGateway([]) { client, access in
            try await client.execute(uri: "/admin/providers", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            let clinician = try await access.headers(patient: Self.patient)
            for uri in ["/admin/providers", "/admin/opt-outs", "/admin/audit?patient=9990000018"] {
                try await client.execute(uri: uri, method: .get, headers: clinician) { response in
                    #expect(response.status == .forbidden, "\(uri)")
                    let outcome = try OutcomeBody(Data(buffer: response.body))
                    #expect(outcome.code == "operator-scope-required")
                }
            }
            try await client.execute(uri: "/admin/providers", method: .get, headers: try await access.operatorHeaders()) {
                response in #expect(response.status == .ok)
            }
        }
    }
}

/// The decisions, in order — opt-out, relationship or break-glass, role — each refusal audited and each one
/// before any provider is asked; what a role may not see is withheld and counted.
@Suite struct AccessDecisionRouteTests {
    static let patient = try! NHSNumber("9990000018")
    static let other = try! NHSNumber("9990000026")

    static func get(
        _ client: any TestClientProtocol, _ patient: NHSNumber, _ headers: HTTPFields, query: String = ""
    ) async throws -> (HTTPResponse.Status, Data, HTTPFields) {
        try await client.execute(uri: "/v1/patients/\(patient.digits)/record\(query)", method: .get, headers: headers) {
            ($0.status, Data(buffer: $0.body), $0.headers)
        }
    }

    @Test func anOptedOutPatientIsSuppressedWhoeverAsksAndNoProviderIsAsked() async throws {
        let gp = FakeAdapter("gp", .answer(after: .zero, entries: 2))
        try await withRouteGateway([gp]) { client, access in
            try await access.control.optOuts.add(Self.patient, source: "test")
            for headers in [
                try await access.headers(patient: Self.patient),
                try await access.headers(patient: Self.other, purpose: .emergency, breakGlassReason: "collapsed in A&E"),
            ] {
                let (status, body, _) = try await Self.get(client, Self.patient, headers)
                #expect(status == .forbidden)
                let outcome = try OutcomeBody(body)
                #expect(outcome.issueType == "suppressed")
                #expect(outcome.code == "suppressed")
            }
            let audit = try await access.control.audit.records(patient: Self.patient)
            #expect(audit.map(\.record.decision) == [.refused, .refused])
            #expect(audit.map(\.record.reason) == ["suppressed", "suppressed"])
            #expect(audit.allSatisfy { $0.record.providers.isEmpty })
        }
        #expect(gp.calls.load(ordering: .relaxed) == 0)
    }

    @Test(arguments: [
        (AccessPurpose.directCare, nil as String?, "no-legitimate-relationship"),
        (AccessPurpose.emergency, nil as String?, "break-glass-reason-required"),
        (AccessPurpose.emergency, "   " as String?, "break-glass-reason-required"),
        (AccessPurpose.emergency, String(repeating: "collapsed ", count: 51) as String?, "break-glass-reason-too-long"),
    ])
    func anotherPatientsRecordIsRefusedWithoutBreakGlass(
        _ purpose: AccessPurpose, _ reason: String?, _ code: String
    ) async throws {
        let gp = FakeAdapter("gp", .answer(after: .zero, entries: 2))
        try await withRouteGateway([gp]) { client, access in
            let headers = try await access.headers(patient: Self.patient, purpose: purpose, breakGlassReason: reason)
            let (status, body, _) = try await Self.get(client, Self.other, headers)
            #expect(status == .forbidden)
            let outcome = try OutcomeBody(body)
            #expect(outcome.code == code)
            #expect(outcome.issueType == "forbidden")
            let audit = try await access.control.audit.records(patient: Self.other)
            #expect(audit.count == 1)
            #expect(audit.first?.record.decision == .refused)
            #expect(audit.first?.record.reason == code)
            #expect((audit.first?.record.breakGlassReason?.count ?? 0) <= AccessPolicy.breakGlassReasonLimit)
        }
        #expect(gp.calls.load(ordering: .relaxed) == 0)
    }

    @Test func breakGlassIsAllowedFlaggedAndItsReasonAudited() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 2))]) { client, access in
            let headers = try await access.headers(
                patient: Self.patient, purpose: .emergency, breakGlassReason: "unconscious on arrival, no ID card")
            let (status, body, responseHeaders) = try await Self.get(client, Self.other, headers)
            #expect(status == .ok)
            let view = try JSONDecoder().decode(RecordView.self, from: body)
            #expect(view.breakGlass == true)
            #expect(view.entries.count == 2)
            let audit = try #require(try await access.control.audit.records(patient: Self.other).first)
            #expect(audit.record.decision == .allowed)
            #expect(audit.record.reason == "break-glass")
            #expect(audit.record.purpose == "emergency")
            #expect(audit.record.breakGlassReason == "unconscious on arrival, no ID card")
            #expect(audit.record.requestID == responseHeaders[.careGateRequestID])
        }
    }

    @Test func anUnknownRoleIsRefused() async throws {
        let gp = FakeAdapter("gp", .answer(after: .zero, entries: 2))
        try await withRouteGateway([gp]) { client, access in
            let (status, body, _) = try await Self.get(client, Self.patient, try await access.headers(role: "R9999", patient: Self.patient))
            #expect(status == .forbidden)
            #expect(try OutcomeBody(body).code == "unknown-role")
            #expect(try await access.control.audit.records(patient: Self.patient).first?.record.reason == "unknown-role")
        }
        #expect(gp.calls.load(ordering: .relaxed) == 0)
    }

    static let syphilis = Coding(system: "http://snomed.info/sct", code: "76272004", display: "Syphilis")
    static let asthma = Coding(system: "http://snomed.info/sct", code: "195967001", display: "Asthma")

    static let clinic: [CareEntry] = [
        CareEntry(category: .condition, code: syphilis, summary: "Syphilis", source: SourceReference(provider: "x", id: "")),
        CareEntry(category: .condition, code: asthma, summary: "Asthma", source: SourceReference(provider: "x", id: "")),
        CareEntry(category: .appointment, summary: "Clinic review", source: SourceReference(provider: "x", id: "")),
        CareEntry(category: .medication, summary: "Salbutamol inhaler", source: SourceReference(provider: "x", id: "")),
    ]

    @Test func sensitiveConceptsAreWithheldFromRolesNotAllowedThemAndCounted() async throws {
        try await withRouteGateway([FakeAdapter("gp", .record(Self.clinic))]) { client, access in
            // A GP sees everything.
            let (_, gpBody, _) = try await Self.get(client, Self.patient, try await access.headers(role: "R0260", patient: Self.patient))
            let gpView = try JSONDecoder().decode(RecordView.self, from: gpBody)
            #expect(gpView.entries.count == 4)
            #expect(gpView.withheld == 0)

            // A nurse does not see sexual-health codes: withheld, counted, and never named.
            let (_, nurseBody, _) = try await Self.get(client, Self.patient, try await access.headers(role: "R8001", patient: Self.patient))
            let nurseView = try JSONDecoder().decode(RecordView.self, from: nurseBody)
            #expect(nurseView.entries.count == 3)
            #expect(nurseView.withheld == 1)
            #expect(!String(decoding: nurseBody, as: UTF8.self).contains("76272004"))
            #expect(!String(decoding: nurseBody, as: UTF8.self).contains("Syphilis"))
            #expect(nurseView.providers.first?.entries == 3)
        }
    }

    @Test func aRoleSeesOnlyItsCategoriesAndProvidersOfNothingElseAreNotAsked() async throws {
        let pharmacy = FakeAdapter("pharmacy", categories: [.medication], .answer(after: .zero, entries: 4))
        let gp = FakeAdapter("gp", .record(Self.clinic))
        try await withRouteGateway([gp, pharmacy]) { client, access in
            // Clerical staff see appointments only.
            let (status, body, _) = try await Self.get(client, Self.patient, try await access.headers(role: "R8010", patient: Self.patient))
            #expect(status == .ok)
            let view = try JSONDecoder().decode(RecordView.self, from: body)
            #expect(view.entries.map(\.category) == [.appointment])
            #expect(view.withheld == 3)
            #expect(view.providers.map(\.status) == ["ok", "skipped"])

            // Asking for a category the role may not see asks no one and withholds nothing it did not fetch.
            let (_, narrowBody, _) = try await Self.get(
                client, Self.patient, try await access.headers(role: "R8010", patient: Self.patient), query: "?category=medication")
            let narrow = try JSONDecoder().decode(RecordView.self, from: narrowBody)
            #expect(narrow.entries.isEmpty)
            #expect(narrow.providers.allSatisfy { $0.status == "skipped" })
        }
        #expect(pharmacy.calls.load(ordering: .relaxed) == 0)
        #expect(gp.calls.load(ordering: .relaxed) == 1)
    }

    @Test func theAuditRecordIsWrittenBeforeTheResponseWithWhatWasReturned() async throws {
        try await withRouteGateway([
            FakeAdapter("gp", .record(Self.clinic)), FakeAdapter("stuck", .fail(after: .zero, .error("connection refused"))),
        ]) { client, access in
            let (status, body, headers) = try await Self.get(client, Self.patient, try await access.headers(patient: Self.patient))
            #expect(status == .ok)
            let view = try JSONDecoder().decode(RecordView.self, from: body)
            // Read as soon as the response is in hand: it is already committed.
            let audit = try #require(try await access.control.audit.records(patient: Self.patient).last)
            #expect(audit.record.decision == .allowed)
            #expect(audit.record.reason == "legitimate-relationship")
            #expect(audit.record.requestID == headers[.careGateRequestID])
            #expect(audit.record.userID == "demo-r8000")
            #expect(audit.record.role == "R8000")
            #expect(audit.record.organisation == "CGDEMO")
            #expect(audit.record.route == "/v1/patients/{nhs}/record")
            #expect(audit.record.providers == [
                ProviderOutcomeSummary(provider: "gp", status: "ok"), ProviderOutcomeSummary(provider: "stuck", status: "error"),
            ])
            #expect(audit.record.entriesPerCategory == Dictionary(grouping: view.entries, by: \.category.rawValue).mapValues(\.count))
            #expect(audit.record.entriesPerCategory == ["condition": 2, "appointment": 1, "medication": 1])
        }
    }

    /// `audit_disclosure: after-answer`: the access is on record, durably, by the time the answer is in hand; what
    /// the answer disclosed follows it in the same chain, under the same request id.
    @Test func withTheDisclosureAfterTheAnswerTheAccessIsCommittedFirstAndTheDetailFollows() async throws {
        let gp = FakeAdapter("gp", .record(Self.clinic))
        try await withRouteGateway(
            [gp, FakeAdapter("stuck", .fail(after: .zero, .error("connection refused")))], auditDisclosure: .afterAnswer
        ) { client, access in
            let (status, body, headers) = try await Self.get(client, Self.patient, try await access.headers(patient: Self.patient))
            #expect(status == .ok)
            let view = try JSONDecoder().decode(RecordView.self, from: body)
            let requestID = try #require(headers[.careGateRequestID])

            let accessRecord = try #require(try await access.control.audit.records(patient: Self.patient).first)
            #expect(accessRecord.record.requestID == requestID)
            #expect(accessRecord.record.decision == .allowed)
            #expect(accessRecord.record.reason == "legitimate-relationship")
            #expect(accessRecord.record.userID == "demo-r8000")
            #expect(accessRecord.record.providers == [
                ProviderOutcomeSummary(provider: "gp", status: "asked"), ProviderOutcomeSummary(provider: "stuck", status: "asked"),
            ])
            #expect(accessRecord.record.entriesPerCategory.isEmpty)

            var records = try await access.control.audit.records(patient: Self.patient)
            let waitUntil = ContinuousClock.now + .seconds(5)
            while records.count < 2, ContinuousClock.now < waitUntil {
                try await Task.sleep(for: .milliseconds(10))
                records = try await access.control.audit.records(patient: Self.patient)
            }
            #expect(records.count == 2)
            let disclosure = try #require(records.last)
            #expect(disclosure.sequence > accessRecord.sequence)
            #expect(disclosure.record.requestID == requestID)
            #expect(disclosure.record.reason == "disclosed")
            #expect(disclosure.record.providers == [
                ProviderOutcomeSummary(provider: "gp", status: "ok"), ProviderOutcomeSummary(provider: "stuck", status: "error"),
            ])
            #expect(disclosure.record.entriesPerCategory == Dictionary(grouping: view.entries, by: \.category.rawValue).mapValues(\.count))
            #expect(try await access.control.audit.verify() == .intact(count: 2))
        }
    }

    /// The access record is written while the providers are asked; when it cannot be, the fan-out is cancelled there
    /// and then: the 503 does not wait for a slow provider, and no data leaves.
    @Test func withTheDisclosureAfterTheAnswerAStoppedAuditTrailStillFailsClosedWith503AtOnce() async throws {
        try await withRouteGateway(
            [FakeAdapter("gp", .record(Self.clinic)), FakeAdapter("slow", .answer(after: .seconds(3), entries: 2))],
            auditDisclosure: .afterAnswer
        ) { client, access in
            await access.control.audit.shutdown()
            let headers = try await access.headers(patient: Self.patient)
            let started = ContinuousClock.now
            let (status, body, _) = try await Self.get(client, Self.patient, headers)
            #expect(started.duration(to: .now) < .seconds(1), "the 503 waited for the slow provider")
            #expect(status == .serviceUnavailable)
            #expect(try OutcomeBody(body).code == "audit-unavailable")
            #expect(!String(decoding: body, as: UTF8.self).contains("Asthma"))
        }
    }

    @Test func aStoppedAuditTrailFailsClosedWith503AndNoData() async throws {
        try await withRouteGateway([FakeAdapter("gp", .record(Self.clinic))]) { client, access in
            await access.control.audit.shutdown()
            let (status, body, _) = try await Self.get(client, Self.patient, try await access.headers(patient: Self.patient))
            #expect(status == .serviceUnavailable)
            let outcome = try OutcomeBody(body)
            #expect(outcome.code == "audit-unavailable")
            #expect(outcome.issueType == "transient")
            #expect(!String(decoding: body, as: UTF8.self).contains("Asthma"))
        }
    }

    @Test func aStoppedOptOutRegistryFailsClosedWith503AndNoProviderIsAsked() async throws {
        let gp = FakeAdapter("gp", .record(Self.clinic))
        try await withRouteGateway([gp]) { client, access in
            await access.control.optOuts.shutdown()
            let (status, body, _) = try await Self.get(client, Self.patient, try await access.headers(patient: Self.patient))
            #expect(status == .serviceUnavailable)
            #expect(try OutcomeBody(body).code == "opt-out-store-unavailable")
            // The attempt itself is still on record.
            #expect(try await access.control.audit.records(patient: Self.patient).last?.record.reason == "opt-out-store-unavailable")
        }
        #expect(gp.calls.load(ordering: .relaxed) == 0)
    }
}

/// The opt-out registry and the audit trail through the admin API.
@Suite struct AdminPolicyRouteTests {
    static let patient = try! NHSNumber("9990000018")

    @Test func anOptOutMadeThroughTheAdminAPIHoldsFromTheNextQueryAndCanBeWithdrawn() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 2))]) { client, access in
            let operatorHeaders = try await access.operatorHeaders()
            let clinician = try await access.headers(patient: Self.patient)
            let uri = "/admin/opt-outs/\(Self.patient.digits)"
            try await client.execute(uri: uri, method: .get, headers: operatorHeaders) { #expect($0.status == .notFound) }
            try await client.execute(uri: uri, method: .put, headers: operatorHeaders) { #expect($0.status == .created) }
            try await client.execute(uri: uri, method: .put, headers: operatorHeaders) { #expect($0.status == .ok) }
            try await client.execute(uri: uri, method: .get, headers: operatorHeaders) { response in
                #expect(response.status == .ok)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String])
                #expect(body["nhsNumber"] == Self.patient.digits)
                #expect(body["source"] == "admin-api:demo-r8000")
            }
            try await client.execute(uri: "/admin/opt-outs", method: .get, headers: operatorHeaders) { response in
                #expect(String(buffer: response.body).contains(Self.patient.digits))
            }
            let (refused, _, _) = try await AccessDecisionRouteTests.get(client, Self.patient, clinician)
            #expect(refused == .forbidden)

            try await client.execute(uri: uri, method: .delete, headers: operatorHeaders) { #expect($0.status == .noContent) }
            try await client.execute(uri: uri, method: .delete, headers: operatorHeaders) { #expect($0.status == .notFound) }
            let (allowed, _, _) = try await AccessDecisionRouteTests.get(client, Self.patient, clinician)
            #expect(allowed == .ok)

            try await client.execute(uri: "/admin/opt-outs/123", method: .put, headers: operatorHeaders) { response in
                #expect(response.status == .badRequest)
                let outcome = try OutcomeBody(Data(buffer: response.body))
                #expect(outcome.code == "invalid-nhs-number")
            }
        }
    }

    @Test func theAuditOfAPatientIsAFHIRBundleOfAuditEvents() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 3))]) { client, access in
            let other = try NHSNumber("9990000026")
            _ = try await AccessDecisionRouteTests.get(client, Self.patient, try await access.headers(patient: Self.patient))
            _ = try await AccessDecisionRouteTests.get(client, Self.patient, try await access.headers(patient: other))
            _ = try await AccessDecisionRouteTests.get(
                client, Self.patient,
                try await access.headers(role: "R8001", patient: other, purpose: .emergency, breakGlassReason: "cardiac arrest"))
            // Another patient's access is not in this patient's bundle.
            _ = try await AccessDecisionRouteTests.get(client, other, try await access.headers(patient: other))

            try await client.execute(
                uri: "/admin/audit?patient=\(Self.patient.digits)", method: .get, headers: try await access.operatorHeaders()
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/fhir+json")
                let bundle = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(bundle["resourceType"] as? String == "Bundle")
                #expect(bundle["type"] as? String == "searchset")
                #expect(bundle["total"] as? Int == 3)
                let events = try #require(bundle["entry"] as? [[String: Any]]).compactMap { $0["resource"] as? [String: Any] }
                #expect(events.map { $0["resourceType"] as? String } == ["AuditEvent", "AuditEvent", "AuditEvent"])
                #expect(events.map { $0["outcome"] as? String } == ["0", "4", "0"])
                #expect(events.map { $0["outcomeDesc"] as? String } == ["legitimate-relationship", "no-legitimate-relationship", "break-glass"])
                let purposes = events.map { (($0["purposeOfEvent"] as? [[String: Any]])?.first?["coding"] as? [[String: Any]])?.first?["code"] as? String }
                #expect(purposes == ["TREAT", "TREAT", "ETREAT"])
                let who = (events[2]["agent"] as? [[String: Any]])?.first?["who"] as? [String: Any]
                #expect((who?["identifier"] as? [String: String])?["value"] == "demo-r8001")
                let entities = try #require(events[2]["entity"] as? [[String: Any]])
                #expect(((entities[0]["what"] as? [String: Any])?["identifier"] as? [String: String])?["value"] == Self.patient.digits)
                let details = try #require(entities[1]["detail"] as? [[String: String]])
                #expect(details.contains(["type": "break-glass-reason", "valueString": "cardiac arrest"]))
                #expect(details.contains(["type": "provider:gp", "valueString": "ok"]))
            }
            try await client.execute(uri: "/admin/audit", method: .get, headers: try await access.operatorHeaders()) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    /// Information governance reviews every break-glass access, whoever's record it reached.
    @Test func theBreakGlassReviewListsEveryEmergencyAccessAndNothingElse() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 3))]) { client, access in
            let (first, second) = (try NHSNumber("9990000026"), try NHSNumber("9990000034"))
            _ = try await AccessDecisionRouteTests.get(client, Self.patient, try await access.headers(patient: Self.patient))
            for (patient, reason) in [(first, "cardiac arrest"), (second, "found collapsed")] {
                _ = try await AccessDecisionRouteTests.get(
                    client, patient,
                    try await access.headers(role: "R8001", patient: Self.patient, purpose: .emergency, breakGlassReason: reason))
            }
            let operatorHeaders = try await access.operatorHeaders()
            func review(_ query: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/admin/audit?\(query)", method: .get, headers: operatorHeaders) { response in
                    (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
                }
            }
            let (status, bundle) = try await review("purpose=emergency")
            #expect(status == .ok)
            #expect(bundle["total"] as? Int == 2)
            #expect(bundle["link"] == nil)
            let events = try #require(bundle["entry"] as? [[String: Any]]).compactMap { $0["resource"] as? [String: Any] }
            let patients = events.map {
                ((($0["entity"] as? [[String: Any]])?.first?["what"] as? [String: Any])?["identifier"] as? [String: String])?["value"]
            }
            #expect(patients == [first.digits, second.digits])
            #expect(events.allSatisfy { $0["outcomeDesc"] as? String == "break-glass" })

            // From a time after them: none. A date alone is midnight UTC.
            #expect(try await review("purpose=emergency&since=2099-01-01").1["total"] as? Int == 0)
            #expect(try await review("purpose=emergency&since=2020-01-01T00:00:00Z").1["total"] as? Int == 2)
            for bad in ["purpose=direct-care", "purpose=emergency&since=yesterday", "purpose=emergency&after=-1",
                        "purpose=emergency&patient=\(Self.patient.digits)"] {
                #expect(try await review(bad).0 == .badRequest, "\(bad)")
            }
        }
    }

    /// Three queries by two users: demo-r8000 (R8000) of their launch patient, and demo-r8001 (R8001) of another
    /// patient twice — breaking the glass, then without it and refused. Returns the other patient.
    static func queriesByTwoUsers(_ client: any TestClientProtocol, _ access: TestAccess) async throws -> NHSNumber {
        let other = try NHSNumber("9990000026")
        _ = try await AccessDecisionRouteTests.get(client, Self.patient, try await access.headers(patient: Self.patient))
        _ = try await AccessDecisionRouteTests.get(
            client, other,
            try await access.headers(role: "R8001", patient: Self.patient, purpose: .emergency, breakGlassReason: "found collapsed"))
        _ = try await AccessDecisionRouteTests.get(client, other, try await access.headers(role: "R8001", patient: Self.patient))
        return other
    }

    /// A GET's status and JSON object (empty when the body is not one).
    static func json(_ client: any TestClientProtocol, _ uri: String, _ headers: HTTPFields) async throws
        -> (HTTPResponse.Status, [String: Any])
    {
        try await client.execute(uri: uri, method: .get, headers: headers) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    /// Information governance investigates one member of staff: every record of theirs, whoever's record it
    /// reached, and nobody else's.
    @Test func oneUsersAccessesAreListedAndNobodyElses() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 3))]) { client, access in
            let other = try await Self.queriesByTwoUsers(client, access)
            let auditor = try await access.headers(patient: Self.patient, auditor: true)
            func search(_ query: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await Self.json(client, "/admin/audit?\(query)", auditor)
            }
            func events(_ bundle: [String: Any]) -> [[String: Any]] {
                ((bundle["entry"] as? [[String: Any]]) ?? []).compactMap { $0["resource"] as? [String: Any] }
            }
            let (status, bundle) = try await search("user=demo-r8001")
            #expect(status == .ok)
            #expect(bundle["total"] as? Int == 2)
            let theirs = events(bundle)
            let users = theirs.map {
                ((($0["agent"] as? [[String: Any]])?.first?["who"] as? [String: Any])?["identifier"] as? [String: String])?["value"]
            }
            #expect(users == ["demo-r8001", "demo-r8001"])
            #expect(theirs.map { $0["outcome"] as? String } == ["0", "4"])
            let patients = theirs.map {
                ((($0["entity"] as? [[String: Any]])?.first?["what"] as? [String: Any])?["identifier"] as? [String: String])?["value"]
            }
            #expect(patients == [other.digits, other.digits])
            #expect(events(try await search("user=demo-r8000").1).count == 1)
            #expect(try await search("user=demo-r8001&since=2099-01-01").1["total"] as? Int == 0)
            #expect(try await search("user=demo-r8001&until=2020-01-01").1["total"] as? Int == 0)
            #expect(try await search("user=demo-r8001&since=2020-01-01&until=2099-01-01").1["total"] as? Int == 2)
            #expect(try await search("user=nobody").1["total"] as? Int == 0)
            for bad in ["user=", "user=demo-r8001&patient=\(Self.patient.digits)", "user=demo-r8001&purpose=emergency",
                        "user=demo-r8001&reviewed=false", "user=demo-r8001&since=yesterday", "user=demo-r8001&after=x",
                        "user=demo-r8001&until=soon", "user=demo-r8001&since=2026-12-02&until=2026-12-01",
                        "user=" + String(repeating: "u", count: AdminPolicyRoutes.userIDLimit + 1)] {
                #expect(try await search(bad).0 == .badRequest, "\(bad)")
            }
        }
    }

    /// The look for the user who stands out: per user, queries, patients, break-glass and refusals over a period,
    /// most patients first, and the list says when it was cut short.
    @Test func theAccessVolumeReportCountsEachUsersQueries() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 3))]) { client, access in
            let other = try await Self.queriesByTwoUsers(client, access)
            let auditor = try await access.headers(patient: Self.patient, auditor: true)
            func report(_ query: String, headers: HTTPFields? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await Self.json(client, "/admin/audit/users\(query)", headers ?? auditor)
            }
            let (status, body) = try await report("")
            #expect(status == .ok)
            let users = try #require(body["users"] as? [[String: Any]])
            #expect(users.map { $0["user"] as? String } == ["demo-r8001", "demo-r8000"])
            #expect(users[0]["queries"] as? Int == 2)
            #expect(users[0]["patients"] as? Int == 1)
            #expect(users[0]["emergency"] as? Int == 1)
            #expect(users[0]["refused"] as? Int == 1)
            #expect(users[0]["roles"] as? [String] == ["R8001"])
            #expect(users[1]["queries"] as? Int == 1)
            #expect(body["truncated"] as? Bool == false)
            // Nothing in the report names a patient.
            let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            #expect(!text.contains(Self.patient.digits) && !text.contains(other.digits))

            let first = try await report("?limit=1").1
            #expect((first["users"] as? [[String: Any]])?.map { $0["user"] as? String } == ["demo-r8001"])
            #expect(first["truncated"] as? Bool == true)
            #expect((try await report("?since=2020-01-01&until=2020-01-02").1["users"] as? [Any])?.isEmpty == true)
            for bad in ["?since=2099-01-01", "?since=2020-01-02&until=2020-01-01", "?until=tomorrow", "?limit=0",
                        "?limit=\(AccessVolumeRoute.maximumLimit + 1)", "?limit=many"] {
                #expect(try await report(bad).0 == .badRequest, "\(bad)")
            }
            #expect(try await report("", headers: try await access.headers(patient: Self.patient)).0 == .forbidden)

            // A scrape starts the count in the background and answers with the last one; a later scrape has it.
            var gauge: Double?
            for _ in 0..<50 where gauge == nil {
                let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                gauge = ReviewBacklogMetricTests.value(text, "caregate_access_most_patients_per_user_last_hour")
                if gauge == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(gauge == 1)
        }
    }

    /// A busy user's records come a page at a time, and the `next` link carries a user id with characters a query
    /// treats specially (`+`, `&`, a space) back exactly.
    @Test func aUsersRecordsComeAPageAtATime() async throws {
        try await withRouteGateway([]) { client, access in
            let user = "ig+test&x y"
            let count = AdminPolicyRoutes.pageSize + 1
            try await withThrowingDiscardingTaskGroup { group in
                for index in 0..<count {
                    group.addTask {
                        _ = try await access.control.audit.append(
                            AuditRecord(
                                time: Date(), requestID: "page-\(index)", userID: user, userName: "Test Clinician B",
                                organisation: "Y90001", role: "R8000", purpose: "direct-care", patient: Self.patient,
                                route: RecordRoutes.route, decision: .allowed, reason: "allowed"))
                    }
                }
            }
            _ = try await access.control.audit.append(
                AuditRecord(
                    time: Date(), requestID: "someone-else", userID: "ig+test", userName: "Test Clinician C",
                    organisation: "Y90001", role: "R8000", purpose: "direct-care", patient: Self.patient,
                    route: RecordRoutes.route, decision: .allowed, reason: "allowed"))
            let auditor = try await access.headers(patient: Self.patient, auditor: true)
            func page(_ uri: String) async throws -> [String: Any] {
                try await client.execute(uri: uri, method: .get, headers: auditor) { response in
                    #expect(response.status == .ok)
                    return (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
                }
            }
            let first = try await page("/admin/audit?" + "user=ig%2Btest%26x%20y")
            #expect((first["entry"] as? [Any])?.count == AdminPolicyRoutes.pageSize)
            #expect(first["total"] == nil)
            let next = try #require(((first["link"] as? [[String: String]])?.first { $0["relation"] == "next" })?["url"])
            let second = try await page(next)
            #expect(second["total"] as? Int == 1)
            #expect(second["link"] == nil)
            let last = try #require((second["entry"] as? [[String: Any]])?.first?["resource"] as? [String: Any])
            let who = ((last["agent"] as? [[String: Any]])?.first?["who"] as? [String: Any])?["identifier"] as? [String: String]
            #expect(who?["value"] == user)

            // The patient's own list (who looked at their record) pages the same way: all 1,002 of theirs.
            let theirs = try await page("/admin/audit?patient=\(Self.patient.digits)")
            #expect((theirs["entry"] as? [Any])?.count == AdminPolicyRoutes.pageSize)
            let rest = try #require(((theirs["link"] as? [[String: String]])?.first { $0["relation"] == "next" })?["url"])
            #expect(rest.contains("patient=\(Self.patient.digits)"))
            #expect(try await page(rest)["total"] as? Int == 2)
            #expect(try await access.control.audit.records(patient: Self.patient).count == count + 1)
            #expect(try await page("/admin/audit?patient=\(Self.patient.digits)&since=2099-01-01")["total"] as? Int == 0)
        }
    }
}

/// An operator's change to a patient's opt-out is written to the audit trail before it is made: the patient's
/// AuditEvents tell who added or removed their objection to sharing, and when.
@Suite struct OptOutAuditRouteTests {
    static let patient = try! NHSNumber("9990000026")

    @Test func addingAndRemovingAnOptOutAreAudited() async throws {
        try await withRouteGateway([]) { client, access in
            let operatorHeaders = try await access.operatorHeaders()
            let uri = "/admin/opt-outs/\(Self.patient.digits)"
            #expect(try await client.execute(uri: uri, method: .put, headers: operatorHeaders) { $0.status } == .created)
            #expect(try await client.execute(uri: uri, method: .delete, headers: operatorHeaders) { $0.status } == .noContent)

            let records = try await access.control.audit.records(patient: Self.patient).map(\.record)
            #expect(records.map(\.reason) == [AuditRecord.optOutAddReason, AuditRecord.optOutRemoveReason])
            #expect(records.allSatisfy { $0.userID == "demo-r8000" && $0.purpose == AuditRecord.administrationPurpose })
            #expect(records.allSatisfy { $0.route == "/admin/opt-outs/{nhs}" && $0.providers.isEmpty })
            #expect(try await access.control.audit.verify() == .intact(count: 2))

            let bundle = try await client.execute(
                uri: "/admin/audit?patient=\(Self.patient.digits)", method: .get, headers: operatorHeaders
            ) { try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any] }
            let events = ((bundle?["entry"] as? [[String: Any]]) ?? []).compactMap { $0["resource"] as? [String: Any] }
            #expect(events.map { $0["action"] as? String } == ["C", "D"])
            let purposes = events.map {
                (($0["purposeOfEvent"] as? [[String: Any]])?.first?["coding"] as? [[String: Any]])?.first?["code"] as? String
            }
            #expect(purposes == ["HOPERAT", "HOPERAT"])
            // Not an emergency access: nothing awaits a break-glass review.
            #expect(try await access.control.audit.awaitingReview().queries == 0)
        }
    }

    /// A trail that cannot take the record refuses the change: nothing is changed unrecorded.
    @Test func noAuditNoChange() async throws {
        try await withRouteGateway([]) { client, access in
            await access.control.audit.shutdown()
            let status = try await client.execute(
                uri: "/admin/opt-outs/\(Self.patient.digits)", method: .put, headers: try await access.operatorHeaders()
            ) { $0.status }
            #expect(status == .serviceUnavailable)
            #expect(try await access.control.optOuts.isOptedOut(Self.patient) == false)
        }
    }
}

/// An opt-out change made from the command line has no job role and no organisation: its AuditEvent leaves the
/// role out and names no ODS code, rather than send empty codes.
@Suite struct CommandLineAuditEventTests {
    @Test func aChangeFromTheCommandLineHasNoRoleAndNoOrganisationCode() throws {
        let record = AuditRecord.optOutChange(
            adding: false, patient: try NHSNumber("9990000026"), userID: "cli:ig-admin", userName: "ig-admin (caregate command line)",
            organisation: "", role: "", requestID: "r-1", route: "caregate opt-out")
        let event = AuditEvent(StoredAuditRecord(sequence: 7, record: record, previousHash: "", hash: ""))
        #expect(event.action == "D")
        #expect(event.agent[0].role == nil)
        #expect(event.agent[0].who.identifier?.value == "cli:ig-admin")
        #expect(event.agent[1].who.identifier == nil)
        #expect(event.agent[1].who.display?.contains("command line") == true)
        #expect(event.purposeOfEvent.first?.coding.first?.code == "HOPERAT")
    }
}
