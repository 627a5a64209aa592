import CareGateTesting
import CareRecords
import Foundation
import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Policy
import ProviderSimulator
import Providers
import Synchronization
import Testing

/// Where the gateway's own state may live in a test: SQLite in the data directory, or a scratch PostgreSQL schema.
enum GatewayStoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let configured: [GatewayStoreKind] = TestPostgres.isConfigured ? [.sqlite, .postgres] : [.sqlite]

    var testDescription: String { rawValue }

    /// Runs `body` with a store URL (nil for SQLite) and a function that dumps everything the store holds.
    func withStore(_ body: (String?, @escaping @Sendable () async throws -> String) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            try await body(nil, { "" })
        case .postgres:
            try await TestPostgres.withScratchSchema { url in
                try await body(url, { try await TestPostgres.dumpSchema(url) })
            }
        }
    }
}

@Suite struct PolicyLiveTests {
    static func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("caregate-live-\(UUID().uuidString)").path
    }

    /// Every byte under `folder`, as text (SQLite files, their journals, the demo key).
    static func contents(of folder: String) throws -> String {
        var text = ""
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder)
        for file in files {
            if let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(file)) {
                text += String(decoding: data, as: UTF8.self) + "\n"
            }
        }
        return text
    }

    @Test(
        "keeps no clinical data: after serving many patients, none of their clinical content is in the data directory, the database or the logs",
        arguments: GatewayStoreKind.configured)
    func keepsNoClinicalData(store: GatewayStoreKind) async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let captured = CapturedLog()
        var logger = Logger(label: "caregate.test") { _ in captured }
        logger.logLevel = .trace
        let patients = Array(LiveGateway.population.patients.prefix(40))

        try await store.withStore { storeURL, dumpStore in
            let clinical = ClinicalStrings()
            try await LiveGateway.run(storeURL: storeURL, dataDirectory: folder, logger: logger) { gateway in
                for patient in patients {
                    let (view, _, _) = try await gateway.record(patient.nhsNumber)
                    clinical.collect(view)
                }
            }
            let strings = clinical.strings
            #expect(strings.count > 100, "the test must look for a real body of clinical text")

            let stored = try Self.contents(of: folder) + (try await dumpStore())
            // The positive control: the audit metadata is there, so the scan is reading the right places.
            #expect(stored.contains(patients[0].nhsNumber.digits))
            let names = patients.flatMap { [$0.givenName, $0.familyName] }.filter { $0.count >= 4 }
            for text in strings + names {
                #expect(!stored.contains(text), "stored: \(text)")
            }

            let logged = captured.entries.filter { $0.level > .debug }.map(\.message).joined(separator: "\n")
            #expect(!logged.isEmpty)
            for text in strings + names + patients.map(\.nhsNumber.digits) {
                #expect(!logged.contains(text), "logged above debug: \(text)")
            }
        }
    }

    @Test(
        "an opt-out made through one replica is honoured by another sharing PostgreSQL within a second",
        .enabled(if: TestPostgres.isConfigured, "CAREGATE_TEST_POSTGRES_URL is unset: PostgreSQL replica test skipped"))
    func replicasShareOptOutsAndOneAuditChain() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let patient = LiveGateway.population.patients[3].nhsNumber
        try await TestPostgres.withScratchSchema { url in
            // Two gateways, each with its own simulated providers, sharing one identity key and one database.
            try await LiveGateway.run(storeURL: url, dataDirectory: folder) { first in
                try await LiveGateway.run(storeURL: url, dataDirectory: folder) { second in
                    #expect(try await second.record(patient).view.entries.isEmpty == false)

                    try await first.client.execute(
                        uri: "/admin/opt-outs/\(patient.digits)", method: .put, headers: try await first.access.operatorHeaders()
                    ) { #expect($0.status == .created) }
                    let optedOut = ContinuousClock.now
                    let status = try await second.client.execute(
                        uri: "/v1/patients/\(patient.digits)/record", method: .get,
                        headers: try await second.access.headers(patient: patient)
                    ) { response in
                        let outcome = try? OutcomeBody(Data(buffer: response.body))
                        #expect(outcome?.code == "suppressed")
                        return response.status
                    }
                    #expect(status == .forbidden)
                    #expect(optedOut.duration(to: .now) < .seconds(1))

                    _ = try await first.record(LiveGateway.population.patients[4].nhsNumber)
                    // Both replicas wrote into one hash chain, which still verifies: the first query, the opt-out
                    // change, the refused query and the other patient's query.
                    let verification = try await first.access.control.audit.verify()
                    #expect(verification == .intact(count: 4))
                    let records = try await second.access.control.audit.records(patient: patient)
                    #expect(records.map(\.record.decision) == [.allowed, .allowed, .refused])
                    #expect(records.map(\.record.reason)[1] == AuditRecord.optOutAddReason)
                }
            }
        }
    }
}

/// Clinical text seen in responses: summaries, code displays, doses.
final class ClinicalStrings: Sendable {
    private let storage = Mutex<Set<String>>([])

    func collect(_ view: RecordView) {
        var found: Set<String> = []
        for entry in view.entries {
            for text in [entry.summary, entry.code?.display, entry.dose].compactMap({ $0 }) where text.count >= 6 {
                found.insert(text)
            }
        }
        storage.withLock { $0.formUnion(found) }
    }

    var strings: [String] { storage.withLock { $0.sorted() } }
}
