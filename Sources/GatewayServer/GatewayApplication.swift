import FanOut
import Hummingbird
import Logging
import Providers
import ServiceLifecycle

/// The composition root: routes over one pipeline, plus the services that live as long as the server.
///
/// - Parameters:
///   - adapters: one per provider; the application shuts down any `HTTPProviderAdapter` among them when it stops.
///   - services: more services to run alongside (the demo's simulated providers); they stop after the server.
///   - onServerRunning: called with the bound port once the server listens (useful with port 0).
public func buildApplication(
    configuration: GatewayConfiguration,
    adapters: [any ProviderAdapter],
    logger: Logger,
    services: [any Service] = [],
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let readiness = Readiness()
    let pipeline = RecordPipeline(
        fanOut: FanOut(adapters: adapters, logger: logger),
        deadline: .milliseconds(configuration.deadlineMilliseconds))

    let router = Router(context: BasicRequestContext.self)
    RecordRoutes(pipeline: pipeline).register(on: router)
    router.get("/healthz") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    router.get("/readyz") { _, _ in
        let ready = readiness.isReady
        return Response(
            status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: ready ? #"{"status":"ready"}"# : #"{"status":"not-ready"}"#)))
    }

    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "CareGate"),
        services: services + [ProviderConnections(adapters: adapters, readiness: readiness, logger: logger)],
        onServerRunning: { channel in
            readiness.set(true)
            await onServerRunning(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger)
}

/// Owns the providers' connection pools for the life of the server. It is listed before the server in the
/// service group, so graceful shutdown reaches it only after the server has drained: then it marks the gateway
/// unready and closes the pools.
struct ProviderConnections: Service {
    let adapters: [any ProviderAdapter]
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(false)
        for case let adapter as HTTPProviderAdapter in adapters {
            do {
                try await adapter.shutdown()
            } catch {
                logger.warning("closing a provider's connections failed", metadata: ["provider": "\(adapter.definition.id)"])
            }
        }
    }
}
