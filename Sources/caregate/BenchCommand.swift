import ArgumentParser
import AsyncHTTPClient
import CareRecords
import Foundation
import GatewayServer
import Logging
import NIOCore
import Policy
import ProviderSimulator
import Providers
import ServiceLifecycle
import Synchronization

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures (run a release build: swift run -c release caregate bench …).",
        subcommands: [AuditBench.self, DecodeBench.self, MergeBench.self, EndToEndBench.self])
}

/// What the audit trail costs: the records route end to end over loopback (simulated providers with no delay,
/// the gateway, a closed-loop load generator, all in this process) with the real audit trail and with one that
/// discards, plus the trail's own append rate under concurrency.
struct AuditBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Queries/s with and without the audit trail, and audit appends/s.")

    @Option(help: "Concurrent clients.") var concurrency = 32
    @Option(help: "Seconds measured per run (after a 2 s warm-up).") var seconds = 10
    @Option(help: "A PostgreSQL store for the audit instead of SQLite: postgres://…") var store: String?
    @Option(name: .long, help: "The folder holding the simulated providers' mapping files.") var providers = "providers"
    @Option(name: .long, help: "The role policy.") var policy = "deploy/policy.yaml"

    func run() async throws {
        let logger = {
            var logger = Logger(label: "caregate.bench")
            logger.logLevel = .error
            return logger
        }()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let configuration = GatewayConfiguration(port: 0, dataDirectory: folder, policyFile: policy, storeURL: store)
        let key = try DemoSigningKey(dataDirectory: folder)

        let (simulator, endpoints) = try await ProviderSimulator.startStandardSix(
            ephemeralPorts: true, faults: try FaultOptions.parse([]), logger: logger)
        let patients = Array(simulator.population.patients.prefix(50))
        var tokens: [(NHSNumber, String)] = []
        for patient in patients {
            tokens.append((patient.nhsNumber, try await key.sign(AccessClaims.demo(role: "R8000", patient: patient.nhsNumber))))
        }
        say("CareGate audit benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(endpoints.count) provider feeds, "
            + "\(concurrency) clients, \(seconds) s per run, audit store: \(store == nil ? "SQLite" : "PostgreSQL")")
        say("| run | queries/s | p50 ms | p99 ms | errors |")
        say("|---|---:|---:|---:|---:|")

        for audited in [true, false] {
            let access = try await AccessControl.open(configuration: configuration, verifier: try await key.verifier(), logger: logger)
            let gateway = AccessControl(
                verifier: access.verifier, rolePolicy: access.rolePolicy, optOuts: access.optOuts,
                audit: audited ? access.audit : DiscardingAuditTrail())
            let directory = try ProviderDirectory(definitions: try endpoints.map { try $0.gatewayDefinition(providersFolder: providers) }, logger: logger) {
                HTTPProviderAdapter(definition: $0, logger: logger)
            }
            let result = try await Self.load(
                configuration: configuration, providers: directory, access: gateway, tokens: tokens,
                concurrency: concurrency, seconds: seconds, logger: logger)
            if !audited { await access.audit.shutdown() }
            say("| \(audited ? "with audit" : "without audit") | \(Int(result.rate)) | \(result.latency.p50.ms) | "
                + "\(result.latency.p99.ms) | \(result.errors) |")
        }

        // The trail alone: many concurrent appenders, group commit.
        let trail = try await makeAuditTrail(AccessControl.storeLocations(configuration).audit, logger: logger)
        let appended = BenchCounter()
        let start = ContinuousClock.now
        let end = start + .seconds(3)
        await withDiscardingTaskGroup { group in
            for worker in 0..<64 {
                group.addTask {
                    while ContinuousClock.now < end {
                        let record = AuditRecord(
                            time: Date(), requestID: UUID().uuidString, userID: "bench-\(worker)", userName: "Bench",
                            organisation: "CGBENCH", role: "R8000", purpose: "direct-care",
                            patient: patients[worker % patients.count].nhsNumber, route: "/v1/patients/{nhs}/record",
                            decision: .allowed, reason: "legitimate-relationship",
                            providers: [ProviderOutcomeSummary(provider: "gp", status: "ok")],
                            entriesPerCategory: ["medication": 3])
                        if (try? await trail.append(record)) != nil { appended.add() }
                    }
                }
            }
        }
        let elapsed = start.duration(to: .now)
        await trail.shutdown()
        say("")
        say("audit trail alone: \(Int(Double(appended.value) / elapsed.seconds)) appends/s committed "
            + "(64 concurrent appenders, group commit)")
        try await simulator.shutdown()
    }

    /// A gateway run in this process: its CPU and memory are not told apart from the simulator's.
    struct InProcessGateway: LoadTarget {
        let baseURL: String
        var cpuTime: Duration { .zero }
        var residentMegabytes: Int { 0 }
    }

    /// Runs the gateway in this process, drives it closed-loop for `seconds` after a warm-up (`LoadRun`, as
    /// `bench e2e` does), and stops it.
    static func load(
        configuration: GatewayConfiguration, providers: ProviderDirectory, access: AccessControl,
        tokens: [(NHSNumber, String)], concurrency: Int, seconds: Int, logger: Logger
    ) async throws -> LoadRun.Result {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(
            configuration: configuration, providers: providers, access: access, logger: logger
        ) { port in portContinuation.yield(port) }
        let client = HTTPClient(configuration: .init(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)))
        let services = ServiceGroup(
            configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var ports = portStream.makeAsyncIterator()
            guard let port = await ports.next() else { throw ValidationError("the gateway did not start") }
            let result = try await LoadRun.closedLoop(
                gateway: InProcessGateway(baseURL: "http://127.0.0.1:\(port)"), client: client, tokens: tokens,
                clients: concurrency, seconds: seconds)
            try await client.shutdown()
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return result
        }
    }
}

/// An audit trail that keeps nothing: only for measuring what the real one costs. Never used to serve.
final class DiscardingAuditTrail: AuditTrail {
    private let sequence = Atomic<Int64>(0)

    func append(_ record: AuditRecord) async throws(AuditStoreError) -> StoredAuditRecord {
        StoredAuditRecord(
            sequence: sequence.add(1, ordering: .relaxed).newValue, record: record, previousHash: "", hash: "")
    }
    func records(_ search: AuditSearch, since: Date?, until: Date?, after: Int64, limit: Int) async throws(AuditStoreError)
        -> [StoredAuditRecord]
    { [] }
    func record(sequence: Int64) async throws(AuditStoreError) -> StoredAuditRecord? { nil }
    func accessVolume(since: Date, until: Date, limit: Int) async throws(AuditStoreError) -> [UserAccessSummary] { [] }
    func breakGlassRecords(since: Date, after: Int64, limit: Int, reviewed: Bool?) async throws(AuditStoreError)
        -> [BreakGlassRecord]
    { [] }
    func addReview(_ review: BreakGlassReview) async throws(AuditStoreError) {
        throw AuditStoreError.unavailable
    }
    func reviews(requestID: String) async throws(AuditStoreError) -> [BreakGlassReview] { [] }
    func awaitingReview() async throws(AuditStoreError) -> ReviewBacklog { ReviewBacklog(queries: 0, oldest: nil) }
    func verify() async throws(AuditStoreError) -> AuditVerification { .intact(count: 0) }
    func shutdown() async {}
}

final class BenchCounter: Sendable {
    private let count = Atomic(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
