import ArgumentParser
import AsyncHTTPClient
import CareRecords
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GatewayServer
import Logging
import NIOCore
import NIOHTTP1
import Policy
import ProviderSimulator
import Providers
import Synchronization

/// The gateway end to end, as a separate process (`caregate serve`), against the six simulated providers and a
/// load generator in this process, all on loopback. Each scenario starts a fresh gateway, so breakers, hedging
/// statistics and memory start clean; the gateway's CPU time and resident memory are read from /proc.
///
/// Scenarios: `pool` (20 ms providers, 64 clients, pool of 8 against the default 64), `a` (no provider delay,
/// closed loop), `b` (log-normal provider delays, median 40 ms, p99 300 ms, at a fixed arrival rate), `c` (b with
/// one provider hanging), `d` (b with one provider failing 20 % of calls), `b-after` (b with the gateway recording
/// each answer's disclosure after it, `--audit-disclosure after-answer`), `e` (one patient with 5,000 entries), and
/// with `--memory-queries N`, resident memory over N queries.
struct EndToEndBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "The gateway end to end: throughput, latency, overhead, slow, hanging and failing providers, memory.")

    @Option(help: "Scenarios to run, comma-separated: pool, a, b, b-after, c, d, e.") var scenarios = "pool,a,b,b-after,c,d,e"
    @Option(help: "Seconds measured per scenario (after a warm-up).") var seconds = 10
    @Option(help: "Arrival rate for scenarios b–d, queries/s (open loop: a slow answer does not slow the arrivals).")
    var rate = 200
    @Option(help: "Closed-loop clients for scenario a.") var concurrency = 32
    @Option(name: .customLong("memory-queries"), help: "Also run this many closed-loop queries and report memory (0: skip).")
    var memoryQueries = 0
    @Option(help: "A Python interpreter with Benchmarks/peer's requirements: run scenario a against the peer gateway too.")
    var peer: String?
    @Option(name: .long, help: "The folder holding the simulated providers' mapping files.") var providers = "providers"
    @Option(name: .long, help: "The role policy.") var policy = "deploy/policy.yaml"
    @Option(help: "The gateway's executor (swift or event-loops), to compare the two.")
    var executor = GatewayConfiguration().executor

    func run() async throws {
        let requested = Set(scenarios.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let unknown = requested.subtracting(["pool", "a", "b", "b-after", "c", "d", "e"])
        guard unknown.isEmpty else { throw ValidationError("--scenarios: unknown \(unknown.sorted().joined(separator: ", "))") }
        guard seconds >= 1, rate >= 1, concurrency >= 1 else { throw ValidationError("--seconds, --rate and --concurrency must be positive") }

        let logger = Logger(label: "caregate.bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let bench = try await BenchEnvironment.start(
            providersFolder: providers, policy: policy, executor: executor, logger: logger)
        defer { bench.removeFolder() }
        let client = HTTPClient(
            configuration: .init(
                connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)))

        say("CareGate end-to-end benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, gateway as its own process "
            + "(`caregate serve --executor \(executor.rawValue)`), \(bench.endpoints.count) simulated provider feeds and the load generator in this process, "
            + "loopback, \(seconds) s per scenario")
        try await bench.closing(client) {
            if requested.contains("pool") { try await poolScenario(bench, client) }
            if requested.contains("a") { try await closedLoopScenario(bench, client) }
            if !requested.isDisjoint(with: Self.slowProviderScenarioNames) { try await slowProviderScenarios(bench, client, requested) }
            if requested.contains("e") { try await largeRecordScenario(bench, client) }
            if memoryQueries > 0 { try await memoryScenario(bench, client) }
        }
    }

    // MARK: Scenarios

    private func poolScenario(_ bench: BenchEnvironment, _ client: HTTPClient) async throws {
        say("")
        say("### Pool: every provider answers in 20 ms, 64 clients in a closed loop")
        say("A pool of n connections caps a provider at n / 20 ms queries/s; the default (64) should leave the gateway's CPU, "
            + "not the pool, as the limit.")
        say("| provider pool (max_connections) | queries/s | p50 ms | p99 ms | errors |")
        say("|---:|---:|---:|---:|---:|")
        try bench.setFaultOnAll(.fixedDelay(milliseconds: 20))
        for pool in [2, 8, 64] {
            let gateway = try await bench.startGateway(maxConnections: pool)
            let run = try await LoadRun.closedLoop(
                gateway: gateway, client: client, tokens: bench.tokens, clients: 64, seconds: seconds)
            try await gateway.stop()
            say("| \(pool) | \(run.rate.rounded0) | \(run.latency.p50.ms) | \(run.latency.p99.ms) | \(run.errors) |")
        }
        try bench.setFaultOnAll(.none)
    }

    private func closedLoopScenario(_ bench: BenchEnvironment, _ client: HTTPClient) async throws {
        say("")
        say("### a. No provider delay, \(concurrency) clients in a closed loop")
        say("| gateway | queries/s | p50 ms | p99 ms | gateway CPU per query | gateway memory (RSS) | errors | steal |")
        say("|---|---:|---:|---:|---:|---:|---:|---:|")
        let gateway = try await bench.startGateway()
        var stealBefore = StealTime.now()
        let caregate = try await LoadRun.closedLoop(
            gateway: gateway, client: client, tokens: bench.tokens, clients: concurrency, seconds: seconds)
        say("| CareGate | \(caregate.rate.rounded0) | \(caregate.latency.p50.ms) | \(caregate.latency.p99.ms) | "
            + "\(caregate.cpuPerQuery.ms) ms | \(caregate.residentMegabytes) MB | \(caregate.errors) | "
            + "\(StealTime.share(from: stealBefore, to: StealTime.now())) |")
        try await gateway.stop()
        guard let peer else { return }
        // The peer in one process (asyncio's one thread), and as one worker process per core, the usual way to
        // give a Python server every core.
        var ratios: [String] = []
        var agreementLine = ""
        for workers in [1, ProcessInfo.processInfo.activeProcessorCount] {
            let peerGateway = try await bench.startPeer(python: peer, workers: workers)
            if workers == 1 {
                // The ratio means something only if the peer does the same job: the same merged entries.
                let gateway = try await bench.startGateway()
                let agreement = try await Self.agreement(gateway, peerGateway, client: client, tokens: bench.tokens)
                try await gateway.stop()
                agreementLine = "The peer's merged view was checked against CareGate's for every patient first: "
                    + "\(agreement.agreeing) of \(agreement.patients) agree entry for entry (ids, in order)."
            }
            stealBefore = StealTime.now()
            let reference = try await LoadRun.closedLoop(
                gateway: peerGateway, client: client, tokens: bench.tokens, clients: concurrency, seconds: seconds)
            let steal = StealTime.share(from: stealBefore, to: StealTime.now())
            try await peerGateway.stop()
            say("| Python peer (asyncio, aiohttp, lxml), \(workers) process\(workers == 1 ? "" : "es") | \(reference.rate.rounded0) | "
                + "\(reference.latency.p50.ms) | \(reference.latency.p99.ms) | \(reference.cpuPerQuery.ms) ms | "
                + "\(reference.residentMegabytes) MB | \(reference.errors) | \(steal) |")
            ratios.append(
                "against \(workers) process\(workers == 1 ? "" : "es"): \(String(format: "%.1f", caregate.rate / max(reference.rate, 0.001)))× "
                    + "the queries/s, \(String(format: "%.1f", reference.cpuPerQuery.seconds / max(caregate.cpuPerQuery.seconds, 1e-9)))× "
                    + "less CPU per query")
        }
        say("")
        say("CareGate / peer — " + ratios.joined(separator: "; "))
        say("")
        say(agreementLine)
    }

    /// For each patient, whether both gateways return the same merged entries (the same ids in the same order).
    private static func agreement(
        _ caregate: BenchGateway, _ peer: BenchGateway, client: HTTPClient, tokens: [(NHSNumber, String)]
    ) async throws -> (patients: Int, agreeing: Int) {
        func entryIDs(_ gateway: BenchGateway, _ patient: NHSNumber, _ token: String) async throws -> [String]? {
            var request = HTTPClientRequest(url: "\(gateway.baseURL)/v1/patients/\(patient.digits)/record")
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
            guard response.status == .ok,
                let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                let entries = object["entries"] as? [[String: Any]]
            else { return nil }
            return entries.compactMap { $0["id"] as? String }
        }
        var agreeing = 0
        for (patient, token) in tokens {
            let ours = try await entryIDs(caregate, patient, token)
            let theirs = try await entryIDs(peer, patient, token)
            if let ours, ours == theirs { agreeing += 1 }
        }
        return (tokens.count, agreeing)
    }

    /// The scenarios with log-normally delayed providers, in the order they run.
    static let slowProviderScenarioNames = ["b", "b-after", "c", "d"]

    private func slowProviderScenarios(_ bench: BenchEnvironment, _ client: HTTPClient, _ requested: Set<String>) async throws {
        let delay = SimulatedFault.logNormalDelay(medianMilliseconds: 40, p99Milliseconds: 300)
        let victim = SimulatedProviderID.careHome
        let victimTimeout = bench.endpoints.first { $0.id == victim }.map { $0.definition.timeoutMilliseconds } ?? 0
        say("")
        say("### b–d. Every provider delayed log-normally (median 40 ms, p99 300 ms), \(rate) queries/s arriving")
        say("Latency counts from when each query was due. Overhead = the client's latency from when it actually sent the "
            + "query − the slowest provider's for that query (from `Server-Timing`); the load generator's own lateness in "
            + "sending is shown apart. The gateway's own share is what it measured between receiving the request and "
            + "sending the answer, less that provider; the audit column is how long the answer waited for the audit; "
            + "outside the gateway is the client's latency less all the gateway's time in its handler (the wire, HTTP on both "
            + "sides, and waiting to be scheduled).")
        say("| scenario | queries | p50 ms | p99 ms | max ms | overhead p50 ms | overhead p99 ms | gateway's own p50 / p99 ms | of which policy p50 / p99 ms | audit wait p50 / p99 ms | outside the gateway p50 / p99 ms | sent late p50 / p99 ms | errors | steal |")
        say("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        var baseline: LoadRun.Result?
        var failing: LoadRun.Result?
        for scenario in Self.slowProviderScenarioNames
        where requested.contains(scenario) || (scenario == "b" && requested.contains("d")) {
            try bench.setFaultOnAll(delay)
            switch scenario {
            case "c": try bench.simulator.setFault(.hang, for: victim)
            case "d": try bench.simulator.setFault(.flaky(percent: 20), for: victim)
            default: break
            }
            let gateway = try await bench.startGateway(auditDisclosure: scenario == "b-after" ? .afterAnswer : .withAnswer)
            let stealBefore = StealTime.now()
            let run = try await LoadRun.openLoop(
                gateway: gateway, client: client, tokens: bench.tokens, rate: rate, seconds: seconds)
            let steal = StealTime.share(from: stealBefore, to: StealTime.now())
            try await gateway.stop()
            let label = switch scenario {
            case "b": "b. all providers delayed"
            case "b-after": "b, the disclosure recorded after the answer"
            case "c": "c. \(victim) hanging (its timeout: \(victimTimeout) ms)"
            default: "d. \(victim) failing 20 % of calls"
            }
            say("| \(label) | \(run.latency.count) | \(run.latency.p50.ms) | \(run.latency.p99.ms) | \(run.latency.max.ms) | "
                + "\(run.overhead.p50.ms) | \(run.overhead.p99.ms) | \(run.gatewayOwn.p50.ms) / \(run.gatewayOwn.p99.ms) | "
                + "\(run.policy.p50.ms) / \(run.policy.p99.ms) | \(run.audit.p50.ms) / \(run.audit.p99.ms) | \(run.outside.p50.ms) / \(run.outside.p99.ms) | \(run.sendLateness.p50.ms) / \(run.sendLateness.p99.ms) | "
                + "\(run.errors) | \(steal) |")
            if scenario == "b" { baseline = run }
            if scenario == "d" { failing = run }
        }
        try bench.setFaultOnAll(.none)
        if let baseline, let failing {
            say("")
            say("d. The other providers' latency with \(victim) failing 20 % of calls, against b (from the manifests, ms):")
            say("| provider | b p50 | d p50 | b p99 | d p99 |")
            say("|---|---:|---:|---:|---:|")
            for provider in baseline.providerLatencies.keys.sorted() where provider != victim.rawValue {
                let before = LatencySummary(baseline.providerLatencies[provider] ?? [])
                let after = LatencySummary(failing.providerLatencies[provider] ?? [])
                say("| \(provider) | \(before.p50.ms) | \(after.p50.ms) | \(before.p99.ms) | \(after.p99.ms) |")
            }
        }
    }

    private func largeRecordScenario(_ bench: BenchEnvironment, _ client: HTTPClient) async throws {
        say("")
        say("### e. One patient with \(BenchEnvironment.telemonitoringReadings) readings besides their history, one client")
        let gateway = try await bench.startGateway()
        let run = try await LoadRun.closedLoop(
            gateway: gateway, client: client, tokens: [bench.telemonitoredToken], clients: 1, seconds: seconds,
            keepLastBody: true)
        try await gateway.stop()
        let view = try run.lastBody.map { try JSONDecoder().decode(RecordView.self, from: Data($0)) }
        let answered = view.map { view in view.providers.map { "\($0.id) \($0.status) \($0.entries)" }.joined(separator: ", ") } ?? "no answer"
        say("| entries in the view | response | providers (status, entries) | queries | p50 ms | p99 ms | gateway memory (RSS) | errors |")
        say("|---:|---:|---|---:|---:|---:|---:|---:|")
        say("| \(view?.entries.count ?? 0) | \((run.lastBody?.count ?? 0) / 1024) KB | \(answered) | \(run.latency.count) | "
            + "\(run.latency.p50.ms) | \(run.latency.p99.ms) | \(run.residentMegabytes) MB | \(run.errors) |")
    }

    private func memoryScenario(_ bench: BenchEnvironment, _ client: HTTPClient) async throws {
        say("")
        say("### Memory: \(memoryQueries) queries, \(concurrency) clients, no provider delay")
        let gateway = try await bench.startGateway()
        let samples = try await LoadRun.memory(
            gateway: gateway, client: client, tokens: bench.tokens, clients: concurrency, queries: memoryQueries)
        try await gateway.stop()
        say("| queries served | gateway RSS MB |")
        say("|---:|---:|")
        for sample in samples { say("| \(sample.queries) | \(sample.megabytes) |") }
        // The first sample is taken after a warm-up tenth of the run: caches, pools and the status window filled.
        if let first = samples.first, let last = samples.last, first.megabytes > 0 {
            let change = Double(last.megabytes - first.megabytes) / Double(first.megabytes) * 100
            say("")
            say("from \(first.queries) to \(last.queries) queries: \(String(format: "%+.1f", change)) % resident memory")
        }
    }
}

// MARK: - The environment: simulator, tokens, provider files, gateways

/// The simulated providers (the standard population plus one telemonitored patient), tokens for them, and a
/// scratch folder from which gateways are started.
struct BenchEnvironment {
    static let telemonitoringReadings = 5_000

    let simulator: ProviderSimulator
    let endpoints: [SimulatedEndpoint]
    let tokens: [(NHSNumber, String)]
    let telemonitoredToken: (NHSNumber, String)
    let folder: String
    let jwksFile: String
    let providersFolder: String
    let policy: String
    let executor: TaskExecutorChoice
    /// The `caregate` binary that gateways are started from.
    let executable: String

    /// `executable` defaults to this process's own binary (the benchmark is `caregate bench`).
    static func start(
        providersFolder: String, policy: String, executor: TaskExecutorChoice, executable: String? = nil, logger: Logger
    ) async throws -> BenchEnvironment {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let key = try DemoSigningKey(dataDirectory: folder)
        let jwksFile = folder + "/jwks.json"
        try key.jwksJSON.write(toFile: jwksFile, atomically: true, encoding: .utf8)

        let (population, telemonitored) = SyntheticPopulation.generate()
            .addingTelemonitoredPatient(readings: telemonitoringReadings)
        let simulator = ProviderSimulator(population: population, logger: logger)
        let endpoints = try await simulator.start()
        func token(_ patient: NHSNumber) async throws -> (NHSNumber, String) {
            (patient, try await key.sign(AccessClaims.demo(role: "R8000", patient: patient, ttl: .seconds(6 * 3600))))
        }
        var tokens: [(NHSNumber, String)] = []
        for patient in population.patients where patient.nhsNumber != telemonitored.nhsNumber {
            tokens.append(try await token(patient.nhsNumber))
        }
        return BenchEnvironment(
            simulator: simulator, endpoints: endpoints, tokens: tokens,
            telemonitoredToken: try await token(telemonitored.nhsNumber), folder: folder, jwksFile: jwksFile,
            providersFolder: URL(fileURLWithPath: providersFolder).standardizedFileURL.path,
            policy: URL(fileURLWithPath: policy).standardizedFileURL.path, executor: executor,
            executable: try executable ?? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    }

    /// Runs `body`, then shuts `client` and the simulator down, whether or not it threw.
    func closing(_ client: HTTPClient, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            try? await client.shutdown()
            try? await simulator.shutdown()
            throw error
        }
        try await client.shutdown()
        try await simulator.shutdown()
    }

    func setFaultOnAll(_ fault: SimulatedFault) throws {
        for endpoint in endpoints { try simulator.setFault(fault, for: endpoint.id) }
    }

    /// Writes the provider files (the simulator's definitions, with the mapping files and schemas they name) into a
    /// fresh folder, and starts `caregate serve` on them.
    /// `store`: a shared PostgreSQL store (`--store`); SQLite in the gateway's own data folder without one.
    func startGateway(
        maxConnections: Int? = nil, auditDisclosure: AuditDisclosureTiming = .withAnswer, store: String? = nil
    ) async throws -> BenchGateway {
        let run = folder + "/gateway-\(UUID().uuidString.prefix(8))"
        let providers = try writeProviderFiles(into: run, maxConnections: maxConnections)
        return try await BenchGateway.launch(
            executable: executable,
            arguments: [
                "serve", "--providers", providers, "--port", "0", "--data-dir", run + "/data", "--policy", policy,
                "--jwks-file", jwksFile, "--issuer", DemoSigningKey.issuer, "--audience", DemoSigningKey.audience,
                "--log-level", "notice", "--log-format", "json", "--drain-delay-ms", "0",
                "--audit-disclosure", auditDisclosure.rawValue, "--executor", executor.rawValue,
            ] + (store.map { ["--store", $0] } ?? []),
            // As deploy/Dockerfile runs it (two malloc arenas), unless the caller's environment says otherwise.
            environment: ["MALLOC_ARENA_MAX": ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] ?? "2"],
            readyLine: "CareGate ready", urlKey: "url")
    }

    /// Starts the Python peer gateway (`Benchmarks/peer`) on the same provider files. Several workers share one
    /// port (SO_REUSEPORT), which must then be fixed: a free one is picked.
    func startPeer(python: String, workers: Int) async throws -> BenchGateway {
        let run = folder + "/peer-\(UUID().uuidString.prefix(8))"
        let providers = try writeProviderFiles(into: run, maxConnections: nil)
        let port = workers == 1 ? 0 : try Self.freePort()
        return try await BenchGateway.launch(
            executable: python,
            arguments: [
                "Benchmarks/peer/peer_gateway.py", "--providers", providers, "--port", "\(port)", "--workers", "\(workers)",
                "--jwks", jwksFile, "--issuer", DemoSigningKey.issuer, "--audience", DemoSigningKey.audience,
            ],
            readyLine: "peer listening on", urlKey: nil)
    }

    /// A loopback port free right now (bound to port 0 and released).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ValidationError("cannot open a socket to find a free port") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else { throw ValidationError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func writeProviderFiles(into run: String, maxConnections: Int?) throws -> String {
        let providers = run + "/providers"
        try FileManager.default.createDirectory(atPath: providers, withIntermediateDirectories: true)
        // The simulated definitions name their bespoke schemas as ../schemas/…, relative to the providers folder.
        let schemas = URL(fileURLWithPath: providersFolder).deletingLastPathComponent().appendingPathComponent("schemas").path
        try FileManager.default.createSymbolicLink(atPath: run + "/schemas", withDestinationPath: schemas)
        for endpoint in endpoints {
            var yaml = endpoint.providerDefinitionYAML()
            if let maxConnections { yaml += "max_connections: \(maxConnections)\n" }
            try yaml.write(toFile: "\(providers)/\(endpoint.id.rawValue).yaml", atomically: true, encoding: .utf8)
            if let mapping = endpoint.definition.mappingFile {
                try FileManager.default.copyItem(atPath: "\(providersFolder)/\(mapping)", toPath: "\(providers)/\(mapping)")
            }
        }
        return providers
    }

    func removeFolder() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// A gateway process under test: its base URL, and its CPU time and resident memory from /proc.
/// (`Process` is not marked Sendable; after `run()` only its pid is read and `terminate()` called, which are safe
/// from any thread.)
final class BenchGateway: LoadTarget, @unchecked Sendable {
    let process: Process
    let baseURL: String
    /// The line that said the process was ready.
    let readyLine: String

    private init(process: Process, baseURL: String, readyLine: String) {
        self.process = process
        self.baseURL = baseURL
        self.readyLine = readyLine
    }

    /// Starts the process and waits (up to 30 s) for the line announcing it listens, reading the URL from it: the
    /// JSON log field `urlKey`, or the port at the end of the line.
    static func launch(
        executable: String, arguments: [String], environment: [String: String] = [:], readyLine: String,
        urlKey: String?
    ) async throws -> BenchGateway {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        // Read on a thread of its own with blocking reads, not with `readabilityHandler`: that registers a Dispatch
        // source on the pipe, and clearing it at end of file races with the descriptor's closing. The bench crashed
        // so once (a bad pointer in libdispatch's `_dispatch_event_loop_drain`), between stopping one gateway and
        // starting the next. The thread holds the handle, so the descriptor stays open until it has read to the end.
        let handle = output.fileHandleForReading
        let lines = AsyncStream<String> { continuation in
            Thread.detachNewThread {
                var buffer = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    // Every line is read, so the pipe never fills; only the first ready line matters.
                    buffer.append(chunk)
                    while let newline = buffer.firstIndex(of: 0x0A) {
                        continuation.yield(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                        buffer.removeSubrange(buffer.startIndex...newline)
                    }
                }
                continuation.finish()
            }
        }
        try process.run()
        let ready = try await withThrowingTaskGroup(of: (url: String, line: String)?.self) { group in
            group.addTask {
                var seen: [String] = []
                for await line in lines {
                    guard line.contains(readyLine) else {
                        seen.append(line)
                        continue
                    }
                    if let urlKey {
                        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                        return (object?[urlKey] as? String).map { ($0, line) }
                    }
                    return line.split(separator: " ").last.map { ("http://127.0.0.1:\($0)", line) }
                }
                throw ValidationError("\(executable) exited before it was ready: \(seen.suffix(5).joined(separator: "\n"))")
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let ready else {
            process.terminate()
            throw ValidationError("\(executable) did not say it was ready within 30 s")
        }
        return BenchGateway(process: process, baseURL: ready.url, readyLine: ready.line)
    }

    /// The process and every process under it (a server that forks workers is measured whole).
    private var processTree: [Int32] {
        let root = process.processIdentifier
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let fields = Self.statFields(pid), fields.count > 1, let parent = Int32(fields[1])
            else { continue }
            parents[pid] = parent
        }
        return parents.keys.filter { pid in
            var current = pid
            for _ in 0..<64 {
                if current == root { return true }
                guard let parent = parents[current], parent > 1 else { return false }
                current = parent
            }
            return false
        } + (parents[root] == nil ? [root] : [])
    }

    /// The fields of /proc/PID/stat after the command name: state, ppid, … (utime is [11], stime [12]).
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// User plus system CPU time so far, over the whole process tree.
    var cpuTime: Duration {
        let ticks = max(sysconf(Int32(_SC_CLK_TCK)), 1)
        var total = 0
        for pid in processTree {
            guard let fields = Self.statFields(pid), fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12])
            else { continue }
            total += user + system
        }
        return .microseconds(total * 1_000_000 / ticks)
    }

    /// Resident memory now, in MB (VmRSS), over the whole process tree.
    var residentMegabytes: Int {
        var kilobytes = 0
        for pid in processTree {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let value = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
            else { continue }
            kilobytes += value
        }
        return kilobytes / 1024
    }

    /// SIGTERM, and after 3 s SIGKILL to the whole tree: a child started from this process may inherit a mask
    /// that blocks SIGTERM (the Python peer does), and a killed parent would leave its workers behind.
    func stop() async throws {
        let tree = processTree
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(3)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard process.isRunning else { return }
        for pid in tree { kill(pid, SIGKILL) }
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    }
}

// MARK: - Load

/// What a load run drives and measures: a gateway's base URL, and its CPU time and resident memory when it is a
/// process of its own (an in-process gateway reports zero for both).
protocol LoadTarget: Sendable {
    var baseURL: String { get }
    var cpuTime: Duration { get }
    var residentMegabytes: Int { get }
}

/// One scenario's load and what it measured.
enum LoadRun {
    struct Result {
        var rate: Double
        var latency: LatencySummary
        /// Client latency, counted from when the request was actually sent, − the slowest provider's (Server-Timing
        /// `providers`).
        var overhead: LatencySummary
        /// How late the load generator sent each query after it was due (open loop): part of `latency`, but the
        /// harness's own delay, not the gateway's, so left out of `overhead`.
        var sendLateness: LatencySummary
        /// The gateway's own measure of the same (Server-Timing `gateway`).
        var gatewayOwn: LatencySummary
        /// The wait for the durable audit write, part of the gateway's own time (Server-Timing `audit`).
        var audit: LatencySummary
        /// The opt-out check and access decision, part of the gateway's own time (Server-Timing `policy`).
        var policy: LatencySummary
        /// The client's latency from sending less the gateway's whole time in its handler (Server-Timing `total`):
        /// the request and answer on the wire, HTTP parsing and writing on both sides, and waiting to be scheduled.
        var outside: LatencySummary
        var errors: Int
        var cpuPerQuery: Duration
        var residentMegabytes: Int
        /// Each provider's latencies from the manifests, ms (open-loop runs only).
        var providerLatencies: [String: [Int]]
        var lastBody: [UInt8]?
    }

    /// What one query measured.
    struct Sample {
        /// From when the query was due (open loop) or sent (closed loop) to the whole answer.
        var latency: Duration
        /// From when the request was handed to the client to the whole answer.
        var sentLatency: Duration
        var providers: Double?
        var gateway: Double?
        var audit: Double?
        var policy: Double?
        var total: Double?
        var manifest: [(String, Int)]
    }

    /// `clients` each send the next query as soon as the last is answered, for 2 s of warm-up and `seconds` measured.
    static func closedLoop(
        gateway: any LoadTarget, client: HTTPClient, tokens: [(NHSNumber, String)], clients: Int, seconds: Int,
        keepLastBody: Bool = false
    ) async throws -> Result {
        let samples = Locked<[Sample]>([])
        let errors = BenchCounter()
        let lastBody = Locked<[UInt8]?>(nil)
        let warmEnd = ContinuousClock.now + .seconds(2)
        let end = warmEnd + .seconds(seconds)
        let cpu = Locked<Duration?>(nil)
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await Task.sleep(until: warmEnd)
                cpu.withLock { $0 = gateway.cpuTime }
            }
            for worker in 0..<clients {
                group.addTask {
                    var index = worker
                    while ContinuousClock.now < end {
                        let (patient, token) = tokens[index % tokens.count]
                        index += clients
                        let started = ContinuousClock.now
                        let sample = await query(gateway, client, patient, token, decodeManifest: false) { body in
                            if keepLastBody { lastBody.withLock { $0 = body } }
                        }
                        guard started >= warmEnd else { continue }
                        if let sample { samples.withLock { $0.append(sample) } } else { errors.add() }
                    }
                }
            }
        }
        let cpuUsed = gateway.cpuTime - (cpu.withLock { $0 } ?? .zero)
        return summarise(
            samples.withLock { $0 }, errors: errors.value, seconds: seconds, cpu: cpuUsed, gateway: gateway,
            lastBody: lastBody.withLock { $0 })
    }

    /// Queries arrive at `rate` per second whatever the answers do (open loop); each latency counts from when the
    /// query was due, so a stalled gateway cannot hide its stall by slowing the arrivals (no coordinated omission).
    static func openLoop(
        gateway: any LoadTarget, client: HTTPClient, tokens: [(NHSNumber, String)], rate: Int, seconds: Int
    ) async throws -> Result {
        let samples = Locked<[Sample]>([])
        let errors = BenchCounter()
        let warmUp = 2
        let total = rate * (seconds + warmUp)
        let interval = Duration.seconds(1) / rate
        let start = ContinuousClock.now + .milliseconds(50)
        let cpu = Locked<Duration?>(nil)
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await Task.sleep(until: start + .seconds(warmUp))
                cpu.withLock { $0 = gateway.cpuTime }
            }
            for index in 0..<total {
                let due = start + interval * index
                try? await Task.sleep(until: due)
                let measured = index >= rate * warmUp
                group.addTask {
                    let (patient, token) = tokens[index % tokens.count]
                    let sample = await query(gateway, client, patient, token, decodeManifest: true, from: due) { _ in }
                    guard measured else { return }
                    if let sample { samples.withLock { $0.append(sample) } } else { errors.add() }
                }
            }
        }
        return summarise(
            samples.withLock { $0 }, errors: errors.value, seconds: seconds,
            cpu: gateway.cpuTime - (cpu.withLock { $0 } ?? .zero), gateway: gateway, lastBody: nil)
    }

    /// Runs `queries` closed-loop queries and samples resident memory ten times, from a tenth of the way in.
    static func memory(
        gateway: any LoadTarget, client: HTTPClient, tokens: [(NHSNumber, String)], clients: Int, queries: Int
    ) async throws -> [(queries: Int, megabytes: Int)] {
        let served = Locked(0)
        let samples = Locked<[(queries: Int, megabytes: Int)]>([])
        let step = max(1, queries / 10)
        await withDiscardingTaskGroup { group in
            for worker in 0..<clients {
                group.addTask {
                    while true {
                        let number = served.withLock { count in
                            count += 1
                            return count
                        }
                        guard number <= queries else { return }
                        let (patient, token) = tokens[(number + worker) % tokens.count]
                        _ = await query(gateway, client, patient, token, decodeManifest: false) { _ in }
                        if number % step == 0 {
                            let megabytes = gateway.residentMegabytes
                            samples.withLock { $0.append((number, megabytes)) }
                        }
                    }
                }
            }
        }
        return samples.withLock { $0 }.sorted { $0.queries < $1.queries }
    }

    /// One records query; nil when it failed (not 200, or no answer).
    private static func query(
        _ gateway: any LoadTarget, _ client: HTTPClient, _ patient: NHSNumber, _ token: String, decodeManifest: Bool,
        from due: ContinuousClock.Instant = .now, body keep: ([UInt8]) -> Void
    ) async -> Sample? {
        do {
            let request = try HTTPClient.Request(
                url: "\(gateway.baseURL)/v1/patients/\(patient.digits)/record", headers: ["Authorization": "Bearer \(token)"])
            let exchange = TimedExchange()
            let task = client.execute(request: request, delegate: exchange, deadline: .now() + .seconds(30))
            let (head, body, sent, received) = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            let latency = due.duration(to: received)
            guard head.status == .ok else { return nil }
            let timing = ServerTimingValues(head.headers.first(name: "Server-Timing") ?? "")
            var manifest: [(String, Int)] = []
            if decodeManifest, let view = try? JSONDecoder().decode(ManifestOnly.self, from: Data(buffer: body)) {
                manifest = view.providers.filter { $0.status == "ok" }.map { ($0.id, $0.latencyMs) }
            }
            keep(Array(buffer: body))
            return Sample(
                latency: latency, sentLatency: sent.duration(to: received), providers: timing.providers, gateway: timing.gateway, audit: timing.audit, policy: timing.policy,
                total: timing.total, manifest: manifest)
        } catch {
            return nil
        }
    }

    private static func summarise(
        _ samples: [Sample], errors: Int, seconds: Int, cpu: Duration, gateway: any LoadTarget, lastBody: [UInt8]?
    ) -> Result {
        var providerLatencies: [String: [Int]] = [:]
        for sample in samples { for (provider, latency) in sample.manifest { providerLatencies[provider, default: []].append(latency) } }
        let overhead = samples.compactMap { sample in
            sample.providers.map { max(.zero, sample.sentLatency - .microseconds(Int64($0 * 1000))) }
        }
        let own = samples.compactMap { $0.gateway.map { Duration.microseconds(Int64($0 * 1000)) } }
        let audit = samples.compactMap { $0.audit.map { Duration.microseconds(Int64($0 * 1000)) } }
        let policy = samples.compactMap { $0.policy.map { Duration.microseconds(Int64($0 * 1000)) } }
        let outside = samples.compactMap { sample in
            sample.total.map { max(.zero, sample.sentLatency - .microseconds(Int64($0 * 1000))) }
        }
        return Result(
            rate: Double(samples.count) / Double(seconds), latency: LatencySummary(samples.map(\.latency)),
            overhead: LatencySummary(overhead),
            sendLateness: LatencySummary(samples.map { max(.zero, $0.latency - $0.sentLatency) }), gatewayOwn: LatencySummary(own), audit: LatencySummary(audit), policy: LatencySummary(policy), outside: LatencySummary(outside), errors: errors,
            cpuPerQuery: samples.isEmpty ? .zero : cpu / samples.count, residentMegabytes: gateway.residentMegabytes,
            providerLatencies: providerLatencies, lastBody: lastBody)
    }
}

/// One exchange read whole on the event loop, timed there: from when the request's head was written to when the
/// answer's last byte was read. Timed in the load generator's task instead, both ends would include waiting for that
/// task to be scheduled (and for each part of the body to wake it), which is the harness's delay, not the gateway's.
private final class TimedExchange: HTTPClientResponseDelegate {
    typealias Response = (head: HTTPResponseHead, body: ByteBuffer, sent: ContinuousClock.Instant, received: ContinuousClock.Instant)

    private struct State {
        var sent = ContinuousClock.now
        var head: HTTPResponseHead?
        var body = ByteBuffer()
    }

    private let state = Mutex(State())

    func didSendRequestHead(task: HTTPClient.Task<Response>, _ head: HTTPRequestHead) {
        state.withLock { $0.sent = .now }
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        state.withLock { $0.head = head }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ part: ByteBuffer) -> EventLoopFuture<Void> {
        state.withLock { state in
            var part = part
            state.body.writeBuffer(&part)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    struct NoResponseHead: Error {}

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        let received = ContinuousClock.now
        return try state.withLock { state in
            guard let head = state.head else { throw NoResponseHead() }
            return (head, state.body, state.sent, received)
        }
    }
}

/// Only the manifest of a records view: the load generator shares the gateway's cores, and decoding every entry of
/// every answer cost it more CPU than the manifest is worth.
private struct ManifestOnly: Decodable {
    struct Provider: Decodable {
        var id: String
        var status: String
        var latencyMs: Int
    }

    var providers: [Provider]
}

/// The `providers` and `gateway` durations of a `Server-Timing` header, in ms.
struct ServerTimingValues {
    var providers: Double?
    var gateway: Double?
    var audit: Double?
    var policy: Double?
    var total: Double?

    init(_ header: String) {
        for metric in header.split(separator: ",") {
            let parts = metric.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first, let duration = parts.first(where: { $0.hasPrefix("dur=") }).flatMap({ Double($0.dropFirst(4)) })
            else { continue }
            if name == "providers" { providers = duration }
            if name == "gateway" { gateway = duration }
            if name == "audit" { audit = duration }
            if name == "policy" { policy = duration }
            if name == "total" { total = duration }
        }
    }
}

/// Percentiles of a set of latencies.
struct LatencySummary {
    var count: Int
    var p50: Duration
    var p99: Duration
    var max: Duration

    init(_ latencies: [Duration]) {
        let sorted = latencies.sorted()
        count = sorted.count
        func at(_ fraction: Double) -> Duration {
            sorted.isEmpty ? .zero : sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
        }
        p50 = at(0.5)
        p99 = at(0.99)
        max = sorted.last ?? .zero
    }

    /// Whole milliseconds (the manifests' unit).
    init(_ milliseconds: [Int]) {
        self.init(milliseconds.map { Duration.milliseconds($0) })
    }
}

extension Duration {
    /// Milliseconds with two decimals, for tables.
    var ms: String { String(format: "%.2f", seconds * 1000) }
}

extension Double {
    var rounded0: String { String(format: "%.0f", self) }
}

/// A value behind a lock, shareable between the load generator's tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
