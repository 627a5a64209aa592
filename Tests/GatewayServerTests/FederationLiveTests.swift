import CareGateTesting
import CareRecords
import Foundation
import Logging
import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Policy
import Providers
import Testing

/// A hub gateway asking the north gateway for a clinician, over real HTTP: the north gateway decides access for
/// that clinician as for its own, audits them, and never passes a federated query on to another gateway.
@Suite struct FederationLiveTests {
    static let demo = LiveGateway.population.demoPatient

    @Test func aHubShowsWhatTheNorthGatewayHolds() async throws {
        try await Federation.run { federation in
            let northView = try await federation.north.record(Self.demo.nhsNumber).view
            let (status, view, body) = try await federation.hubRecord(Self.demo.nhsNumber)
            #expect(status == .ok, "\(body)")
            let hubView = try #require(view)
            let line = try #require(hubView.provider("north"))
            #expect(line.status == "ok", "\(line.error ?? "")")
            #expect(line.kind == "gateway")
            #expect(hubView.complete)
            #expect(!hubView.entries.isEmpty)
            #expect(hubView.entries.count == northView.entries.count)
            // Every fact keeps the providers behind the north gateway as its sources, all of them, as north shows it.
            func sourceSets(_ entries: [MergedEntry], prefix: String) -> [[String]] {
                entries.map { entry in entry.sources.map { "\(prefix)\($0.provider.rawValue)|\($0.id)" }.sorted() }.sorted {
                    $0.lexicographicallyPrecedes($1)
                }
            }
            #expect(sourceSets(hubView.entries, prefix: "") == sourceSets(northView.entries, prefix: "north/"))
            #expect(northView.entries.contains { $0.sources.count > 1 }, "the demo patient has facts from two providers")
        }
    }

    @Test func aProviderThatDidNotAnswerNorthIsNamedAtTheHub() async throws {
        try await Federation.run { federation in
            try federation.north.simulator.setFault(.httpError(status: 503), for: "gp")
            let (status, view, body) = try await federation.hubRecord(Self.demo.nhsNumber)
            #expect(status == .ok, "\(body)")
            let hubView = try #require(view)
            #expect(hubView.provider("north")?.status == "ok")
            let gp = try #require(hubView.provider("north/gp"), "\(hubView.providers.map(\.id))")
            #expect(gp.status == "error")
            #expect(gp.kind == "gp")
            // Named once, though north repeats its notices on each of the three pages.
            #expect(hubView.providers.filter { $0.id == "north/gp" }.count == 1)
            #expect(gp.error == "did not answer the gateway north: HTTP 503 from provider")
            #expect(!hubView.complete)
            #expect(hubView.entries.allSatisfy { entry in !entry.sources.contains { $0.provider == "north/gp" } })
            #expect(!hubView.entries.isEmpty)
            // The hub's own FHIR answer names it too, for a portal reading FHIR.
            let headers = try await federation.hubAccess.headers(patient: Self.demo.nhsNumber)
            let bundle = try await federation.hub.execute(
                uri: "/fhir/Patient/\(Self.demo.nhsNumber.digits)/$everything?_format=xml", method: .get, headers: headers
            ) { String(buffer: $0.body) }
            #expect(bundle.contains("provider north/gp: error"), "\(bundle.prefix(2000))")
            // And the stream, as a provider event of its own before the end.
            let events = try await federation.hub.execute(
                uri: "/v1/patients/\(Self.demo.nhsNumber.digits)/record/stream", method: .get, headers: headers
            ) { String(buffer: $0.body) }
            let gpEvent = try #require(
                events.components(separatedBy: "\n\n").first {
                    $0.hasPrefix("event: provider") && $0.contains(#""north/gp""#)
                }, "\(events.prefix(3000))")
            #expect(gpEvent.contains(#""status":"error""#))
            #expect(events.range(of: "north/gp")!.lowerBound < events.range(of: "event: complete")!.lowerBound)
        }
    }

    @Test func theNorthGatewayAuditsTheHubsClinician() async throws {
        try await Federation.run { federation in
            _ = try await federation.hubRecord(Self.demo.nhsNumber)
            let records = try await federation.north.access.control.audit.records(patient: Self.demo.nhsNumber)
            let record = try #require(records.last?.record)
            #expect(record.userID == "demo-r8000")
            #expect(record.organisation == "CGDEMO")
            #expect(record.role == "R8000")
            #expect(record.decision == .allowed)
            #expect(record.route == "/fhir/Patient/{nhs}/$everything")
            #expect(record.viaGateway == Federation.hubActor)
            // Operators see how much of north's traffic comes through the hub, labelled by its configured id only:
            // three decisions, one per page of 30 the hub fetched (north keeps nothing between pages).
            let metrics = try await federation.north.client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"caregate_federated_decisions_total{gateway="london-hub",decision="allowed"} 3"#)
                || metrics.contains(#"caregate_federated_decisions_total{decision="allowed",gateway="london-hub"} 3"#),
                "\(metrics.split(separator: "\n").filter { $0.contains("federated") })")
            // As the patient would be told: the gateway is an agent of the AuditEvent beside the user.
            let events = try await federation.north.client.execute(
                uri: "/admin/audit?patient=\(Self.demo.nhsNumber.digits)", method: .get,
                headers: try await federation.north.access.operatorHeaders()
            ) { String(buffer: $0.body) }
            #expect(events.contains(#""system":"https:\/\/caregate.example\/Id\/gateway","value":"london-hub""#)
                || events.contains(#""system":"https://caregate.example/Id/gateway","value":"london-hub""#), "\(events)")
            // North's own clinicians' queries name no gateway.
            _ = try await federation.north.record(Self.demo.nhsNumber)
            let own = try await federation.north.access.control.audit.records(patient: Self.demo.nhsNumber)
            #expect(own.last?.record.viaGateway == nil)
            #expect(own.last?.record.route == "/v1/patients/{nhs}/record")
        }
    }

    /// Keeps no patient data in the logs, on either gateway: after queries through the hub — one with a provider
    /// failing behind north, one break-glass — no NHS number and none of the record's text is logged above debug.
    @Test func neitherGatewayLogsPatientData() async throws {
        let captured = CapturedLog()
        var logger = Logger(label: "caregate.test.federation") { _ in captured }
        logger.logLevel = .trace
        let other = try #require(LiveGateway.population.patients.first { $0.nhsNumber != Self.demo.nhsNumber })
        let clinical = ClinicalStrings()
        try await Federation.run(logger: logger) { federation in
            clinical.collect(try #require(try await federation.hubRecord(Self.demo.nhsNumber).view))
            try federation.north.simulator.setFault(.httpError(status: 503), for: "gp")
            _ = try await federation.hubRecord(Self.demo.nhsNumber)
            _ = try await federation.hubRecord(
                Self.demo.nhsNumber, purpose: .emergency, launchedFor: other.nhsNumber, breakGlassReason: "collapsed")
        }
        let logged = captured.entries.filter { $0.level > .debug }.map(\.message).joined(separator: "\n")
        #expect(logged.contains("north"), "the scan must read the hub's log lines")
        #expect(clinical.strings.count > 20)
        for text in clinical.strings + [Self.demo.nhsNumber.digits, other.nhsNumber.digits] {
            #expect(!logged.contains(text), "logged above debug: \(text)")
        }
    }

    @Test func theHubsAdminAPIShowsHowItSignsNeverTheKey() async throws {
        try await Federation.run { federation in
            let body = try await federation.hub.execute(
                uri: "/admin/providers/north", method: .get, headers: try await federation.hubAccess.operatorHeaders()
            ) { String(buffer: $0.body) }
            let summary = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect(summary?["kind"] as? String == "gateway")
            let signing = summary?["on_behalf_of"] as? [String: String]
            #expect(signing?["actor"] == Federation.hubActor)
            #expect(signing?["key_id"] == federation.hubKey.keyID)
            #expect(signing?["key_file"] == federation.hubKey.path)
            #expect(!body.contains("PRIVATE KEY"))
        }
    }

    /// `caregate providers check` against another gateway: asked as the clinician it names, for each test patient,
    /// its FHIR answer valid against the R4 schema; without a clinician, it cannot be asked at all.
    @Test func theConformanceCheckAsksTheOtherGatewayAsTheClinicianItNames() async throws {
        try await Federation.run { federation in
            let port = try #require(federation.north.client.port)
            let definition = try Federation.gatewayDefinition(
                id: "north", url: "http://127.0.0.1:\(port)/fhir/Patient/{nhs}/$everything?_format=xml&_count=1000",
                key: federation.hubKey)
            let schema = try ConformanceCheckTests.schema(for: definition)
            let report = await ConformanceCheck(definition: definition, schema: schema) { patient in
                OnBehalfOf(
                    userID: "check-user", name: "CareGate providers check (check-user)", organisation: "RX1",
                    role: "R8000", purpose: "direct-care", launchPatient: patient)
            }.run(patients: [Self.demo.nhsNumber])
            let result = try #require(report.patients.first)
            #expect(report.passed, "\(result.problems) \(result.schemaErrors.prefix(5))")
            #expect(result.entriesByCategory.values.reduce(0, +) > 0)
            let records = try await federation.north.access.control.audit.records(patient: Self.demo.nhsNumber)
            #expect(records.last?.record.userID == "check-user")
            #expect(records.last?.record.viaGateway == Federation.hubActor)

            let unasked = await ConformanceCheck(definition: definition, schema: schema).run(patients: [Self.demo.nhsNumber])
            #expect(!unasked.passed)
            #expect(unasked.patients.first?.problems.first?.contains("no clinician to ask for") == true)
        }
    }

    @Test func northAppliesItsOwnOptOuts() async throws {
        try await Federation.run { federation in
            try await federation.north.access.control.optOuts.add(Self.demo.nhsNumber, source: "test")
            let (status, view, body) = try await federation.hubRecord(Self.demo.nhsNumber)
            #expect(status == .ok, "\(body)")
            let line = try #require(view?.provider("north"))
            #expect(line.status == "error")
            #expect(line.error == "HTTP 403 from provider")
            #expect(view?.complete == false)
        }
    }

    @Test func breakGlassAtTheHubReachesNorthWithItsReason() async throws {
        let other = try #require(LiveGateway.population.patients.first { $0.nhsNumber != Self.demo.nhsNumber })
        try await Federation.run { federation in
            // Without break-glass the hub refuses by itself: the patient is not the one the portal launched for.
            let refused = try await federation.hubRecord(Self.demo.nhsNumber, launchedFor: other.nhsNumber)
            #expect(refused.status == .forbidden)
            let (status, view, body) = try await federation.hubRecord(
                Self.demo.nhsNumber, purpose: .emergency, launchedFor: other.nhsNumber,
                breakGlassReason: "unconscious in resus, no history")
            #expect(status == .ok, "\(body)")
            #expect(view?.provider("north")?.status == "ok")
            let records = try await federation.north.access.control.audit.records(patient: Self.demo.nhsNumber)
            let record = try #require(records.last?.record)
            #expect(record.purpose == "emergency")
            #expect(record.breakGlassReason == "unconscious in resus, no history")
        }
    }

    @Test func aQueryThroughAGatewayIsNeverPassedToAnother() async throws {
        try await Federation.run(northExtraProviders: { key in
            // North federates onward too; port 9 on loopback refuses, so asking it would show as an error.
            [try Federation.gatewayDefinition(
                id: "south", url: "http://127.0.0.1:9/fhir/Patient/{nhs}/$everything?_format=xml", key: key)]
        }) { federation in
            // North's own clinicians are asked for through it.
            let direct = try await federation.north.record(Self.demo.nhsNumber).view
            #expect(direct.provider("south")?.status == "error")
            // The hub's are not: one hop only.
            let (status, view, body) = try await federation.hubRecord(Self.demo.nhsNumber)
            #expect(status == .ok, "\(body)")
            #expect(view?.provider("north")?.status == "ok")
            #expect(view?.complete == true)
            let records = try await federation.north.access.control.audit.records(patient: Self.demo.nhsNumber)
            let asked = try #require(records.last?.record.providers.map(\.provider))
            #expect(!asked.isEmpty)
            #expect(!asked.contains("south"))
        }
    }

    /// The progressive (SSE) route keeps to one hop too: a hub clinician's stream from north leaves out north's own
    /// gateway provider, which north's own clinicians' streams include.
    @Test func theStreamRouteNeverPassesAFederatedQueryToAnotherGateway() async throws {
        try await Federation.run(northExtraProviders: { key in
            [try Federation.gatewayDefinition(
                id: "south", url: "http://127.0.0.1:9/fhir/Patient/{nhs}/$everything?_format=xml", key: key)]
        }) { federation in
            let patient = Self.demo.nhsNumber
            func stream(_ token: String) async throws -> (HTTPResponse.Status, String) {
                try await federation.north.client.execute(
                    uri: "/v1/patients/\(patient.digits)/record/stream", method: .get,
                    headers: [.authorization: "Bearer \(token)"]
                ) { ($0.status, String(buffer: $0.body)) }
            }
            let own = try await stream(try await federation.north.access.token(patient: patient))
            #expect(own.0 == .ok)
            #expect(own.1.contains(#""south""#), "north's own clinician is asked for through south")

            let signer = try #require(
                try Federation.gatewayDefinition(id: "north", url: "http://127.0.0.1:1/{nhs}", key: federation.hubKey)
                    .auth?.onBehalfOf)
            let hubToken = try await signer.token(
                for: OnBehalfOf(
                    userID: "hub-clinician-1", name: "Hub Clinician", organisation: "Y90002", role: "R8000",
                    purpose: "direct-care", launchPatient: patient))
            let federated = try await stream(hubToken)
            #expect(federated.0 == .ok)
            #expect(federated.1.contains(#""gp""#))
            #expect(!federated.1.contains(#""south""#))
            let records = try await federation.north.access.control.audit.records(patient: patient)
            let last = try #require(records.last?.record)
            #expect(last.viaGateway == Federation.hubActor)
            #expect(!last.providers.map(\.provider).contains("south"))
        }
    }

    /// The hub's admin API checks its gateway provider as the operator who asks: north decides and audits the
    /// check's access as that operator's, come through the hub.
    @Test func theAdminAPICheckAsksTheOtherGatewayAsTheOperator() async throws {
        try await Federation.run { federation in
            let operatorHeaders = try await federation.hubAccess.operatorHeaders()
            let report = try await federation.hub.execute(
                uri: "/admin/providers/north/check", method: .post, headers: operatorHeaders,
                body: ByteBuffer(string: #"{"patients": ["\#(Self.demo.nhsNumber.digits)"]}"#)
            ) { response in
                (response.status, try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            }
            #expect(report.0 == .ok)
            #expect(report.1?["passed"] as? Bool == true, "\(report.1 ?? [:])")
            #expect(report.1?["schema"] as? String == "fhir-single.xsd")
            let records = try await federation.north.access.control.audit.records(patient: Self.demo.nhsNumber)
            #expect(records.last?.record.userID == "demo-r8000")
            #expect(records.last?.record.viaGateway == Federation.hubActor)
        }
    }

    /// North's request log names the hub's request id for the query it answered, so the two gateways' logs join up.
    @Test func northLogsTheHubsRequestID() async throws {
        let captured = CapturedLog()
        let logger = Logger(label: "caregate.test.federation") { _ in captured }
        try await Federation.run(logger: logger) { federation in
            #expect(try await federation.hubRecord(Self.demo.nhsNumber).status == .ok)
            let hubRecords = try await federation.hubAccess.control.audit.records(patient: Self.demo.nhsNumber)
            let hubRequestID = try #require(hubRecords.last?.record.requestID)
            let northRequests = captured.entries.filter {
                $0.message.hasPrefix("request ") && $0.message.contains("$everything")
            }
            #expect(!northRequests.isEmpty)
            #expect(
                northRequests.allSatisfy { $0.message.contains("upstream_request_id\": \(hubRequestID)") },
                "\(northRequests.map(\.message))")
        }
    }
}
