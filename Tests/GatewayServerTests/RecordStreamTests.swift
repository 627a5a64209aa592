import AsyncHTTPClient
import CareGateTesting
import CareRecords
import Foundation
@testable import GatewayServer
import Hummingbird
import HummingbirdTesting
import Logging
import ProviderSimulator
import Providers
import Synchronization
import Testing

/// Server-sent events, parsed: (event name, data) pairs.
func serverSentEvents(_ text: String) -> [(name: String, data: String)] {
    text.components(separatedBy: "\n\n").compactMap { block in
        var name: String?
        var data: [String] = []
        for line in block.split(separator: "\n") {
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
        }
        return name.map { ($0, data.joined(separator: "\n")) }
    }
}

@Suite struct RecordStreamTests {
    @Test func eachProviderArrivesAsAnEventAndTheStreamEndsWithTheManifest() async throws {
        try await LiveGateway.run(faults: [SimulatedProviderID.careHome: .fixedDelay(milliseconds: 400)]) { gateway in
            let patient = LiveGateway.population.demoPatient.nhsNumber
            let headers = try await gateway.access.headers(patient: patient)
            let (view, _, _) = try await gateway.record(patient)
            let started = ContinuousClock.now
            let (contentType, text) = try await gateway.client.execute(
                uri: "/v1/patients/\(patient.digits)/record/stream", method: .get, headers: headers
            ) { response in (response.headers[.contentType], String(buffer: response.body)) }
            #expect(contentType == "text/event-stream")
            #expect(started.duration(to: .now) >= .milliseconds(400))

            let events = serverSentEvents(text)
            let providers = events.filter { $0.name == "provider" }
            #expect(providers.count == gateway.endpoints.count)
            #expect(events.last?.name == "complete")
            struct Provider: Decodable {
                struct Update: Decodable { var replaces: [String]; var entry: MergedEntry }
                var provider: String
                var status: String
                var added: [MergedEntry]
                var updated: [Update]
            }
            let decoded = try providers.map { try JSONDecoder().decode(Provider.self, from: Data($0.data.utf8)) }
            // The slow care home comes last; everyone is ok.
            #expect(decoded.last?.provider == SimulatedProviderID.careHome.rawValue)
            #expect(decoded.allSatisfy { $0.status == "ok" })
            // Replaying additions and updates gives exactly the merged view the plain route returns.
            var current: [String: MergedEntry] = [:]
            for event in decoded {
                for entry in event.added { current[entry.id] = entry }
                for update in event.updated {
                    for id in update.replaces { current[id] = nil }
                    current[update.entry.id] = update.entry
                }
            }
            #expect(Set(current.keys) == Set(view.entries.map(\.id)))
            #expect(decoded.contains { !$0.updated.isEmpty }, "facts shared across providers arrive as updates")
            let complete = try #require(try JSONSerialization.jsonObject(with: Data(events.last!.data.utf8)) as? [String: Any])
            #expect(complete["entries"] as? Int == view.entries.count)
            #expect(complete["complete"] as? Bool == true)

            // Audited before the first byte, and again with how it ended.
            let audit = try await gateway.access.control.audit.records(patient: patient).filter {
                $0.record.route == "/v1/patients/{nhs}/record/stream"
            }
            #expect(audit.map(\.record.reason) == ["legitimate-relationship", "stream-complete"])
            #expect(audit.first?.record.providers.allSatisfy { $0.status == "asked" } == true)
            #expect(audit.last?.record.providers.allSatisfy { $0.status == "ok" } == true)
        }
    }

    @Test func aRefusedStreamIsAPlain403() async throws {
        try await withRouteGateway([FakeAdapter("gp", .answer(after: .zero, entries: 1))]) { client, access in
            let headers = try await access.headers(patient: try NHSNumber("9990000026"))
            try await client.execute(uri: "/v1/patients/9990000018/record/stream", method: .get, headers: headers) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.contentType] == "application/fhir+json")
            }
        }
    }

    /// A provider that waits until cancelled, and says whether it was.
    final class CancellationWitness: ProviderAdapter, Sendable {
        let definition = ProviderDefinition(
            id: "witness", name: "witness", kind: .gp, ods: "X", format: .fhirR4XML,
            urlTemplate: "http://127.0.0.1:1/{nhs}", timeoutMilliseconds: 30_000, categories: Set(EntryCategory.allCases))
        private let startedFlag = Atomic(false)
        private let cancelledFlag = Atomic(false)
        var started: Bool { startedFlag.load(ordering: .relaxed) }
        var cancelled: Bool { cancelledFlag.load(ordering: .relaxed) }

        func fetch(_ patient: NHSNumber, deadline: ContinuousClock.Instant) async throws(ProviderFailure) -> DecodedRecord {
            startedFlag.store(true, ordering: .relaxed)
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                cancelledFlag.store(true, ordering: .relaxed)
            }
            throw .timeout()
        }
    }

    @Test func aClientThatDisconnectsCancelsEveryOutstandingProviderRequest() async throws {
        let witness = CancellationWitness()
        let access = try await TestAccess.make()
        defer { access.remove() }
        let app = buildApplication(
            configuration: GatewayConfiguration(port: 0, deadlineMilliseconds: 30_000),
            providers: try ProviderDirectory(adapters: [witness]), access: access.control, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/patients/9990000018/record/stream")
            request.headers.add(name: "Authorization", value: "Bearer " + (try await access.token(patient: try NHSNumber("9990000018"))))
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let reading = Task {
                let response = try await http.execute(request, timeout: .seconds(60))
                for try await _ in response.body { }
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while !witness.started, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(witness.started)
            #expect(!witness.cancelled)

            // The client goes away: its connection closes.
            reading.cancel()
            _ = await reading.result
            try await http.shutdown()
            let gone = ContinuousClock.now
            while !witness.cancelled, gone.duration(to: .now) < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(witness.cancelled, "the provider request outlived its client")
            #expect(gone.duration(to: .now) < .seconds(3))
        }
    }
}
