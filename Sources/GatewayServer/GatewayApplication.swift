import Foundation
import Hummingbird
import Logging
import Providers
import ServiceLifecycle

/// The gateway's version, as the FHIR CapabilityStatement reports it.
public let careGateVersion = "0.5.0"

/// The composition root: routes over one pipeline, plus the services that live as long as the server.
///
/// - Parameters:
///   - providers: the providers to fan out to; the admin API changes them at run time. The application closes
///     their connections when it stops.
///   - access: token verifier, role policy and the two stores; the application closes the stores when it stops.
///   - providersFolder: where the providers came from, if a folder: SIGHUP re-reads it, a definition sent to the
///     admin API resolves its file paths against it, and may name files only there and in `provider_credentials`.
///   - sharedProviders: the provider change log's registry, through which admin API changes go (every replica,
///     restarts, history); without it they change this process only.
///   - services: more services to run alongside (the demo's simulated providers); they stop after the server.
///   - metrics: where the gateway's metrics go (`GET /metrics`); one registry per application.
///   - readiness: `/readyz`; set when the server listens, cleared by a `ReadinessGate` first on shutdown.
///   - onServerRunning: called with the bound port once the server listens (useful with port 0).
public func buildApplication(
    configuration: GatewayConfiguration,
    providers: ProviderDirectory,
    access: AccessControl,
    providersFolder: String? = nil,
    sharedProviders: SharedProviders? = nil,
    logger: Logger,
    services: [any Service] = [],
    metrics: GatewayMetrics = GatewayMetrics(),
    readiness: Readiness = Readiness(),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let statistics = OperationalStatistics()
    let pipeline = RecordPipeline(
        providers: providers, deadline: .milliseconds(configuration.deadlineMilliseconds), access: access,
        metrics: metrics, auditDisclosure: configuration.auditDisclosure, logger: logger)
    let authenticator = Authenticator(issuers: access.trustedIssuers, metrics: metrics)

    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: FHIRNotFoundMiddleware())
    RecordRoutes(pipeline: pipeline, authenticator: authenticator, statistics: statistics).register(on: router)
    FHIRRoutes(pipeline: pipeline, authenticator: authenticator, statistics: statistics, softwareVersion: careGateVersion)
        .register(on: router)
    RecordStreamRoutes(pipeline: pipeline, authenticator: authenticator).register(on: router)
    StatusRoutes(statistics: statistics, providers: providers, breakers: pipeline.breakers).register(on: router)
    AdminProviderRoutes(
        providers: providers, providersFolder: providersFolder,
        credentialsFolder: configuration.providerCredentialsDirectory, shared: sharedProviders,
        schemasFolder: configuration.schemasDirectory, authenticator: authenticator
    )
    .register(on: router)
    AdminPolicyRoutes(access: access, authenticator: authenticator).register(on: router)
    router.get("/metrics") { _, _ in
        metrics.recordClientCertificates(of: providers.definitions)
        metrics.recordServerCertificate(expiry: configuration.tls?.certificateExpiry)
        await metrics.refreshReviewBacklog(every: .seconds(60)) { try? await access.audit.awaitingReview() }
        // Counting an hour of a busy trail can take seconds: the scrape does not wait for it, and reports the last count.
        Task {
            await metrics.refreshAccessVolume(every: .seconds(300)) {
                let now = Date()
                return (try? await access.audit.accessVolume(since: now.addingTimeInterval(-3600), until: now, limit: 1))
                    .map { $0.first?.patients ?? 0 }
            }
        }
        if let sharedProviders {
            let state = await sharedProviders.state
            metrics.recordProviderChanges(sequence: state.sequence, unapplied: state.unapplied)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }
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

    var lifecycle: [any Service] = services
    if providersFolder != nil || configuration.tls != nil {
        lifecycle.append(
            HangupReloadService(
                providersFolder: providersFolder.map {
                    HangupReloadService.ProvidersFolder(providers: providers, folder: $0, shared: sharedProviders)
                },
                tls: configuration.tls, logger: logger))
    }
    if let sharedProviders { lifecycle.append(sharedProviders) }
    if case .url(let url, let refresh)? = configuration.auth?.keys {
        lifecycle.append(
            JWKSRefreshService(
                url: url, interval: refresh, caFile: configuration.auth?.jwksCAFile, verifier: access.verifier,
                logger: logger))
    }
    // Each federated gateway's keys from its URL, likewise, so a key it rotates in is trusted without a restart.
    for gateway in configuration.auth?.gateways ?? [] {
        guard case .url(let url, let refresh) = gateway.keys,
            let verifier = access.trustedIssuers.gateway(id: gateway.id)
        else { continue }
        lifecycle.append(
            JWKSRefreshService(url: url, interval: refresh, caFile: gateway.jwksCAFile, verifier: verifier, logger: logger))
    }
    lifecycle.append(ProviderConnections(providers: providers, readiness: readiness))
    lifecycle.append(AccessStores(access: access, pendingDisclosures: pipeline.pendingDisclosures))
    return Application(
        router: router,
        server: configuration.tls?.server ?? .http1(),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "CareGate"),
        services: lifecycle,
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
    let providers: ProviderDirectory
    let readiness: Readiness

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(false)
        await providers.shutdown()
    }
}

/// Closes the opt-out registry and the audit trail (committing what is queued) once the server has drained and
/// the disclosure records of answers already sent (`audit_disclosure: after-answer`) are written.
struct AccessStores: Service {
    let access: AccessControl
    let pendingDisclosures: PendingDisclosures

    func run() async throws {
        try? await gracefulShutdown()
        // Even when the group is cancelled rather than shut down gracefully: a store closed from a cancelled task
        // could be left half-closed, with its last audit batch uncommitted.
        let (access, pending) = (access, pendingDisclosures)
        await Task {
            await pending.drained()
            await access.shutdown()
        }.value
    }
}
