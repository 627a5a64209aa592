import CareGateTesting
import CareRecords
import Foundation
import GatewayServer
import Logging
import Policy
import Providers
import Synchronization
import Testing

/// Replicas sharing one PostgreSQL store must use the same providers: a change made through one replica's admin
/// API is applied by every other, survives restarts, and outlives a reload of the (read-only) providers folder.
/// Each "replica" here is a provider directory with its own connection to the store, as a process would have.
@Suite(.enabled(if: TestPostgres.isConfigured, "CAREGATE_TEST_POSTGRES_URL is unset: shared provider tests skipped"))
struct SharedProvidersTests {
    static let logger = Logger(label: "caregate.test.shared-providers")

    /// The repository's providers folder, whose mapping files definitions may name.
    static let folder = LiveGateway.providersFolder

    static func yaml(_ id: String, timeout: Int = 800, mapping: String? = nil) -> String {
        """
        id: \(id)
        name: Provider \(id)
        kind: \(mapping == nil ? "gp" : "ambulance")
        ods: Y99901
        format: \(mapping == nil ? "fhir-r4-xml" : "mapped-xml")
        \(mapping.map { "mapping: \($0)" } ?? "")
        url: http://127.0.0.1:1/fhir/Patient/{nhs}/$everything
        timeout_ms: \(timeout)
        categories: [medication]
        """
    }

    static var folderDefinitions: [ProviderDefinition] {
        get throws { [try ProviderDefinition(yaml: yaml("gp"), file: "gp.yaml", relativeTo: folder)] }
    }

    /// A replica: its own directory (from the folder's definitions) and its own connection to the store.
    /// `built` counts the adapters the replica's directory builds.
    static func replica(_ url: String, poll: Duration = .seconds(60), built: AdapterCount? = nil) async throws
        -> (ProviderDirectory, SharedProviders)
    {
        let directory = try ProviderDirectory(definitions: try folderDefinitions, logger: logger) { definition in
            built?.count.add(1, ordering: .relaxed)
            return FakeAdapter(definition: definition, .answer(after: .zero, entries: 0))
        }
        let log = try await PostgresProviderChangeLog(url: url, logger: logger)
        let shared = try await SharedProviders(
            log: log, providers: directory, folder: folder, files: .within([folder]), pollInterval: poll, logger: logger)
        return (directory, shared)
    }

    static func ids(_ directory: ProviderDirectory) -> [String] { directory.definitions.map(\.id.rawValue) }

    @Test func aChangeThroughOneReplicaReachesTheOthersAndLaterOnes() async throws {
        try await TestPostgres.withScratchSchema { url in
            let (a, sharedA) = try await Self.replica(url)
            let (b, sharedB) = try await Self.replica(url)
            try await sharedA.record(Self.yaml("gp-new"), for: "gp-new", by: "operator-1")
            // Applied where it was made before `record` returns; elsewhere at the next synchronisation.
            #expect(Self.ids(a) == ["gp", "gp-new"])
            #expect(Self.ids(b) == ["gp"])
            try await sharedB.synchronise()
            #expect(Self.ids(b) == ["gp", "gp-new"])

            // Replaced on B, removed on B (a provider from the folder too): A follows, in order.
            try await sharedB.record(Self.yaml("gp-new", timeout: 1200), for: "gp-new", by: "operator-2")
            try await sharedB.record(nil, for: "gp", by: "operator-2")
            try await sharedA.synchronise()
            #expect(Self.ids(a) == ["gp-new"])
            #expect(a.definitions.first?.timeoutMilliseconds == 1200)

            // A replica started now starts with every change, building each provider's adapter once, from its
            // latest definition, however many came before.
            for timeout in [1300, 1400, 1500] {
                try await sharedB.record(Self.yaml("gp-new", timeout: timeout), for: "gp-new", by: "operator-2")
            }
            let built = AdapterCount()
            let (c, _) = try await Self.replica(url, built: built)
            #expect(Self.ids(c) == ["gp-new"])
            #expect(c.definitions.first?.timeoutMilliseconds == 1500)
            // One for the folder's gp, one for gp-new.
            #expect(built.count.load(ordering: .relaxed) == 2)
        }
    }

    @Test func theChangesOutliveAReloadOfTheProvidersFolder() async throws {
        try await TestPostgres.withScratchSchema { url in
            let (a, shared) = try await Self.replica(url)
            try await shared.record(Self.yaml("gp-new"), for: "gp-new", by: "operator")
            try await shared.record(nil, for: "gp", by: "operator")
            // The folder now holds gp (which the store removed) and gp-later (which it never mentioned).
            let reloaded = try Self.folderDefinitions + [try ProviderDefinition(yaml: Self.yaml("gp-later"), file: "x.yaml")]
            try await shared.replaceFolderDefinitions(reloaded)
            #expect(Self.ids(a) == ["gp-later", "gp-new"])
        }
    }

    /// A reset hands a provider back to the providers folder on every replica: its definition there, or none.
    @Test func aResetHandsAProviderBackToTheFolderOnEveryReplica() async throws {
        try await TestPostgres.withScratchSchema { url in
            let (a, sharedA) = try await Self.replica(url)
            let (b, sharedB) = try await Self.replica(url)
            try await sharedA.record(nil, for: "gp", by: "operator-1")
            try await sharedA.record(Self.yaml("gp-new"), for: "gp-new", by: "operator-1")
            try await sharedB.synchronise()
            #expect(Self.ids(b) == ["gp-new"])

            // The folder (the repository's providers folder) has a gp, and no gp-new.
            #expect(try await sharedA.reset("gp", by: "operator-2"))
            #expect(try await sharedA.reset("gp-new", by: "operator-2"))
            #expect(Self.ids(a) == ["gp"])
            #expect(a.definitions.first?.name == "Ladywell Green Medical Practice")
            #expect(!(await sharedA.hasChange(for: "gp")))
            try await sharedB.synchronise()
            #expect(Self.ids(b) == ["gp"])
            #expect(b.definitions.first?.name == "Ladywell Green Medical Practice")

            let history = try await sharedB.history(of: "gp")
            #expect(history.map(\.change.action) == [.removed, .reset])
            #expect(history.map(\.changedBy) == ["operator-1", "operator-2"])
            // A replica started now has the folder's gp, with no change over it.
            let (c, sharedC) = try await Self.replica(url)
            #expect(Self.ids(c) == ["gp"])
            #expect(!(await sharedC.hasChange(for: "gp")))
        }
    }

    @Test func aReplicaPollsForChangesOnItsOwn() async throws {
        try await TestPostgres.withScratchSchema { url in
            let (a, _) = try await Self.replica(url)
            let (_, sharedB) = try await Self.replica(url, poll: .milliseconds(50))
            let (b, polling) = try await Self.replica(url, poll: .milliseconds(50))
            let task = Task { try await polling.run() }
            defer { task.cancel() }
            try await sharedB.record(Self.yaml("gp-new"), for: "gp-new", by: "operator")
            let deadline = ContinuousClock.now + .seconds(5)
            while Self.ids(b) != ["gp", "gp-new"] && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(Self.ids(b) == ["gp", "gp-new"])
            #expect(Self.ids(a) == ["gp"])
        }
    }

    @Test func aChangeThisReplicaCannotReadLeavesTheProviderAsItWasAndTheRestApplied() async throws {
        try await TestPostgres.withScratchSchema { url in
            let (a, shared) = try await Self.replica(url)
            // Names a mapping file this replica's folder lacks (another replica, mid-rollout, has it).
            let unreadable = try await shared.record(
                Self.yaml("gp", mapping: "not-yet-deployed.mapping.yaml"), for: "gp", by: "operator")
            #expect(!unreadable)
            #expect(try await shared.record(Self.yaml("gp-new"), for: "gp-new", by: "operator"))
            #expect(await shared.state == (sequence: 2, unapplied: 1))
            #expect(Self.ids(a) == ["gp", "gp-new"])
            #expect(a.definitions.first?.format == .fhirR4XML)
            // A later change it can apply clears it.
            #expect(try await shared.record(Self.yaml("gp", timeout: 900), for: "gp", by: "operator"))
            #expect(await shared.state == (sequence: 3, unapplied: 0))
        }
    }
}

final class AdapterCount: Sendable {
    let count = Atomic(0)
}
