import CareRecords
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Six (or any number of) simulated care providers answering over HTTP/1.1 from one synthetic population, each in
/// the format its kind of system really uses (FHIR R4 XML, HL7 CDA R2, or a bespoke XML), each on its own listening
/// socket (or sharing another's, as the trust's two feeds do), each with a fault that can be changed while it runs.
///
/// ```swift
/// let simulator = ProviderSimulator(population: .generate())
/// let endpoints = try await simulator.start()            // ephemeral ports; pass `.standardSix.defaultPorts` for the demo
/// try simulator.setFault(.fixedDelay(milliseconds: 200), for: "gp")
/// …
/// try await simulator.shutdown()
/// ```
///
/// The simulator is silent: it logs through the logger it is given (a no-op one by default), at debug level or
/// below, and never logs an NHS number above trace.
public final class ProviderSimulator: Sendable {
    public let population: SyntheticPopulation
    public let providers: [SimulatedProviderDefinition]
    public let host: String

    private let logger: Logger
    private let tls: NIOSSLContext?
    private let requiredAuthorization: String?
    private let lentGroup: (any EventLoopGroup)?
    private let faults: [ProviderID: ProviderFaultState]
    private let connections = ChannelRegistry()
    private let state = Mutex(RunState())

    private struct RunState {
        var running = false
        var servers: [any Channel] = []
        var ownedGroup: MultiThreadedEventLoopGroup?
        var endpoints: [SimulatedEndpoint] = []
    }

    /// - Parameters:
    ///   - providers: which providers to run; their ids choose which records of the population they serve.
    ///   - host: the address to listen on; keep the loopback default unless the gateway runs elsewhere.
    ///   - eventLoopGroup: a group to run on, which the simulator then never shuts down; by default it owns a
    ///     two-thread group, created by `start` and shut down by `shutdown`.
    ///   - logger: where the simulator logs (debug and trace only). Default: discards everything.
    ///   - tls: serve HTTPS with this server context (which may require a client certificate) instead of HTTP.
    ///   - bearerToken: answer 401 to a request without `Authorization: Bearer <bearerToken>`.
    public init(
        population: SyntheticPopulation, providers: [SimulatedProviderDefinition] = .standardSix,
        host: String = "127.0.0.1", eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "caregate.provider-simulator", factory: { _ in SwiftLogNoOpLogHandler() }),
        tls: NIOSSLContext? = nil, bearerToken: String? = nil
    ) {
        self.population = population
        self.providers = providers
        self.host = host
        self.tls = tls
        self.requiredAuthorization = bearerToken.map { "Bearer " + $0 }
        self.lentGroup = eventLoopGroup
        self.logger = logger
        self.faults = Dictionary(
            providers.map { ($0.id, ProviderFaultState(seed: population.seed ^ stableHash($0.id.rawValue))) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The FHIR bundle a FHIR provider serves for a patient, without any network: the same bytes `start`ed providers
    /// send (before any fault). A provider id this simulator does not run, or one serving another format, gives an
    /// empty searchset; `body(for:patient:)` gives any provider's answer whatever its format.
    public func bundle(for provider: ProviderID, patient: NHSNumber) -> [UInt8] {
        guard let definition = providers.first(where: { $0.id == provider }), definition.format == .fhirR4XML else {
            return FHIRBundleWriter.bundle(
                provider: SimulatedProviderDefinition(
                    id: provider, name: provider.rawValue, kind: .trust, odsCode: "", defaultPort: 0, categories: []),
                patient: nil)
        }
        return ProviderResponder(definition: definition, population: population).body(for: patient) ?? []
    }

    /// The body a provider serves for a patient, in its own format (a FHIR bundle, a CDA `Documents` wrapper, a
    /// bespoke export), without any network: the same bytes `start`ed providers send (before any fault). Nil for a
    /// provider id this simulator does not run, or a bespoke format its kind does not have.
    public func body(for provider: ProviderID, patient: NHSNumber) -> [UInt8]? {
        guard let definition = providers.first(where: { $0.id == provider }) else { return nil }
        return ProviderResponder(definition: definition, population: population).body(for: patient)
    }

    /// Starts listening, one socket per provider (providers sharing a port share one), and returns where each is
    /// reachable, in `providers` order.
    ///
    /// - Parameter ports: the port for each provider; a provider not listed (or given 0) gets an ephemeral port. For
    ///   providers sharing a socket, the first port given for any of them.
    /// - Throws: `ProviderSimulatorError.alreadyRunning`, or the bind error (after closing any sockets already
    ///   opened, so a failed start leaves nothing behind).
    public func start(ports: [ProviderID: Int] = [:]) async throws -> [SimulatedEndpoint] {
        guard !providers.isEmpty else { throw ProviderSimulatorError.noProviders }
        let group: any EventLoopGroup = try state.withLock { state in
            guard !state.running else { throw ProviderSimulatorError.alreadyRunning }
            state.running = true
            if let lentGroup { return lentGroup }
            let owned = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            state.ownedGroup = owned
            return owned
        }
        connections.reopen()

        var servers: [any Channel] = []
        var portByProvider: [ProviderID: Int] = [:]
        do {
            for listener in listeners() {
                let requested = listener.lazy.compactMap { ports[$0.id] }.first { $0 != 0 } ?? 0
                let server = try await bind(listener, port: requested, group: group)
                servers.append(server)
                let port = server.localAddress?.port ?? 0
                for definition in listener {
                    portByProvider[definition.id] = port
                    logger.debug(
                        "simulated provider listening", metadata: ["provider": "\(definition.id)", "port": "\(port)"])
                }
            }
        } catch {
            for server in servers { try? await server.close() }
            let owned = state.withLock { state in
                state.running = false
                defer { state.ownedGroup = nil }
                return state.ownedGroup
            }
            try? await owned?.shutdownGracefully()
            throw error
        }
        let endpoints = providers.map {
            SimulatedEndpoint(definition: $0, host: host, port: portByProvider[$0.id] ?? 0)
        }
        state.withLock { state in
            state.servers = servers
            state.endpoints = endpoints
        }
        return endpoints
    }

    /// The sockets to open, each with the providers it serves: a provider with `sharesPortWith` naming another this
    /// simulator runs is served from that one's socket (following a chain to its end), in `providers` order.
    private func listeners() -> [[SimulatedProviderDefinition]] {
        let byID = Dictionary(providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func host(of definition: SimulatedProviderDefinition) -> ProviderID {
            var current = definition
            var seen: Set<ProviderID> = [current.id]
            while let next = current.sharesPortWith.flatMap({ byID[$0] }), seen.insert(next.id).inserted {
                current = next
            }
            return current.id
        }
        var order: [ProviderID] = []
        var members: [ProviderID: [SimulatedProviderDefinition]] = [:]
        for definition in providers {
            let key = host(of: definition)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(definition)
        }
        return order.map { key in
            // The host provider first, so it answers paths no provider of the socket serves.
            let group = members[key] ?? []
            return group.filter { $0.id == key } + group.filter { $0.id != key }
        }
    }

    /// The running endpoints (empty when not running).
    public var endpoints: [SimulatedEndpoint] {
        state.withLock { $0.endpoints }
    }

    /// Changes a provider's fault; the next request it completes is affected. Safe from any thread.
    public func setFault(_ fault: SimulatedFault, for provider: ProviderID) throws(ProviderSimulatorError) {
        guard let faultState = faults[provider] else { throw .unknownProvider(provider) }
        faultState.fault = fault
        logger.debug("simulated provider fault set", metadata: ["provider": "\(provider)", "fault": "\(fault)"])
    }

    /// Sets the same fault on every provider (`.none` clears them all).
    public func setFaultForAll(_ fault: SimulatedFault) {
        for provider in providers {
            try? setFault(fault, for: provider.id)
        }
    }

    public func fault(for provider: ProviderID) -> SimulatedFault? {
        faults[provider]?.fault
    }

    /// The deadline (`CareGate-Deadline-Ms`) the provider's last request carried, if any.
    public func lastDeadlineMilliseconds(for provider: ProviderID) -> Int? {
        faults[provider]?.lastDeadlineMilliseconds
    }

    /// The gateway's request id (`CareGate-Request-Id`) the provider's last request carried, if any.
    public func lastRequestID(for provider: ProviderID) -> String? {
        faults[provider]?.lastRequestID
    }

    /// Stops listening, closes every open connection (including ones held open by `hang`) and, if the simulator
    /// owns its event loop group, shuts that down. Safe to call when not running; the simulator can be started again.
    public func shutdown() async throws {
        let (servers, owned) = state.withLock { state in
            defer {
                state.running = false
                state.servers = []
                state.endpoints = []
                state.ownedGroup = nil
            }
            return (state.servers, state.ownedGroup)
        }
        for server in servers {
            try? await server.close()
        }
        for connection in connections.beginClosing() {
            try? await connection.close()
        }
        try await owned?.shutdownGracefully()
    }

    private func bind(_ listener: [SimulatedProviderDefinition], port: Int, group: any EventLoopGroup) async throws
        -> any Channel
    {
        let routes = listener.map { definition in
            ProviderRoute(
                responder: ProviderResponder(definition: definition, population: population),
                faults: faults[definition.id] ?? ProviderFaultState(seed: population.seed))
        }
        let connections = self.connections
        let logger = self.logger
        let tls = self.tls
        let requiredAuthorization = self.requiredAuthorization
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.register(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        ProviderRequestHandler(routes: routes, requiredAuthorization: requiredAuthorization, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}
