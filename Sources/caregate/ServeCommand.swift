import ArgumentParser
import GatewayServer
import Logging
import Policy
import Providers
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway against the providers declared in a folder of provider files.",
        discussion: """
            Flags override the config file; with no config file the defaults apply \
            (127.0.0.1:8080, providers/, 2000 ms deadline, data/, deploy/policy.yaml). An identity provider is \
            required: `auth` in the config file, or --jwks-file and --issuer. For a trial with demo tokens, \
            `caregate token --print-jwks > demo-jwks.json` and --jwks-file demo-jwks.json --issuer caregate-demo.
            """)

    @Option(name: .long, help: "A YAML config file (keys: host, port, providers, deadline_ms, data_dir, policy, provider_credentials, schemas, auth, tls, store, audit_disclosure, executor).")
    var config: String?

    @Option(name: .customLong("jwks-file"), help: "The identity provider's JWKS (public keys), as a file.")
    var jwksFile: String?

    @Option(name: .long, help: "The exact `iss` of trusted tokens (with --jwks-file).")
    var issuer: String?

    @Option(name: .long, help: "A value the tokens' `aud` must hold.")
    var audience: String?

    @Option(name: .long, help: "The role policy file.")
    var policy: String?

    @Option(name: .long, help: "A shared PostgreSQL store: postgres://user:password@host:port/db (default: SQLite in the data dir).")
    var store: String?

    @Option(name: .long, help: "Folder of provider definition files (*.yaml).")
    var providers: String?

    @Option(name: .long, help: "Address to listen on.")
    var host: String?

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port: Int?

    @Option(name: .customLong("deadline-ms"), help: "Deadline for a whole query, in milliseconds.")
    var deadlineMilliseconds: Int?

    @Option(name: .customLong("data-dir"), help: "Folder for the gateway's own state (never clinical data).")
    var dataDirectory: String?

    @Option(
        name: .customLong("audit-disclosure"),
        help: "with-answer (one audit record committed before each answer) or after-answer (the access committed while providers are asked, the disclosure detail just after the answer).")
    var auditDisclosure: AuditDisclosureTiming?

    @Option(
        help: "swift (Swift's own thread pool: the default, for latency) or event-loops (Swift tasks on SwiftNIO's event loops: more throughput per core, worse latency under load).")
    var executor: TaskExecutorChoice?

    @Option(
        name: .customLong("drain-delay-ms"),
        help: "On SIGTERM, how long /readyz reports unready before the server stops accepting and drains.")
    var drainDelay = 1000

    @OptionGroup var logging: LoggingOptions

    /// `--executor`, else the config file's `executor`, else the default: read before `run`, as `main` must act on
    /// it before any task runs. A config file that cannot be read gives the default here; `run` reports why.
    func executorChoice() -> TaskExecutorChoice {
        if let executor { return executor }
        guard let config, let file = try? GatewayConfiguration(file: config) else { return GatewayConfiguration().executor }
        return file.executor
    }

    func run() async throws {
        var configuration = GatewayConfiguration()
        do {
            if let config { configuration = try GatewayConfiguration(file: config) }
        } catch {
            throw ValidationError(error.description)
        }
        if let providers { configuration.providersDirectory = providers }
        if let host { configuration.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            configuration.port = port
        }
        if let deadlineMilliseconds {
            guard (1...60_000).contains(deadlineMilliseconds) else {
                throw ValidationError("--deadline-ms must be between 1 and 60000")
            }
            configuration.deadlineMilliseconds = deadlineMilliseconds
        }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        if let auditDisclosure { configuration.auditDisclosure = auditDisclosure }
        if let executor { configuration.executor = executor }
        if let policy { configuration.policyFile = policy }
        if let store {
            guard store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") else {
                throw ValidationError("--store must be a postgres:// URL (SQLite in --data-dir is the default)")
            }
            configuration.storeURL = store
        }
        if let jwksFile {
            guard let issuer = issuer ?? configuration.auth?.issuer else {
                throw ValidationError("--jwks-file needs --issuer (the exact `iss` of the tokens to trust)")
            }
            configuration.auth = AuthConfiguration(
                keys: .file(jwksFile), issuer: issuer, audience: audience ?? configuration.auth?.audience ?? "caregate")
        } else if issuer != nil || audience != nil {
            guard var auth = configuration.auth else {
                throw ValidationError("--issuer and --audience need --jwks-file or `auth` in the config file")
            }
            if let issuer { auth.issuer = issuer }
            if let audience { auth.audience = audience }
            configuration.auth = auth
        }
        guard let auth = configuration.auth else {
            throw ValidationError(
                "no identity provider configured: set auth.jwks_file (or auth.jwks_url) and auth.issuer in --config, "
                    + "or give --jwks-file and --issuer")
        }

        let logger = logging.makeLogger(label: "caregate")
        let access: AccessControl
        do {
            access = try await AccessControl.open(
                configuration: configuration, verifier: try await AccessControl.verifier(for: auth),
                gateways: try await AccessControl.gatewayVerifiers(for: auth), logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        let registry: ProviderRegistry
        let providers: ProviderDirectory
        do {
            registry = try ProviderRegistry.load(directory: configuration.providersDirectory)
            providers = try ProviderDirectory(definitions: registry.definitions, logger: logger) { definition in
                HTTPProviderAdapter(definition: definition, logger: logger)
            }
        } catch {
            await access.shutdown()
            throw ValidationError("provider definitions refused: \(error)")
        }
        // Provider changes made through the admin API go into the change log (shared by every replica with a
        // shared store), and are applied over the providers folder here and at every start.
        let shared: SharedProviders
        let changes = AccessControl.providerChangesLocation(configuration)
        do {
            shared = try await SharedProviders(
                log: try await makeProviderChangeLog(changes, logger: logger), providers: providers,
                folder: configuration.providersDirectory,
                files: .adminAPI(
                    providersFolder: configuration.providersDirectory,
                    credentialsFolder: configuration.providerCredentialsDirectory),
                logger: logger)
        } catch {
            await providers.shutdown()
            await access.shutdown()
            throw ValidationError("provider change log \(changes): \(error)")
        }
        let host = configuration.host
        let count = providers.definitions.count
        let executor = ProcessExecutor.current
        if executor != configuration.executor {
            logger.warning(
                "Swift tasks could not be put on the event loops; they run on Swift's own pool",
                metadata: ["executor": "\(configuration.executor.rawValue)"])
        }
        let readiness = Readiness()
        let scheme = configuration.tls == nil ? "http" : "https"
        let mutualTLS = configuration.tls?.requiresClientCertificate == true
        let app = buildApplication(
            configuration: configuration, providers: providers, access: access,
            providersFolder: configuration.providersDirectory, sharedProviders: shared, logger: logger,
            readiness: readiness
        ) { port in
            logger.notice(
                "CareGate ready",
                metadata: [
                    "url": "\(scheme)://\(host):\(port)", "providers": "\(count)", "executor": "\(executor.rawValue)",
                    "client_certificates": "\(mutualTLS ? "required" : "not asked for")",
                ])
        }
        try await ServiceGroup(
            services: [app, ReadinessGate(readiness: readiness, drainDelay: .milliseconds(drainDelay), logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        ).run()
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var level: Logger.Level = .info

    @Option(name: .customLong("log-format"), help: "json (one object per line), logfmt or plain.")
    var format: StructuredLogHandler.Format = .json

    /// Sets up logging for the process (once) and returns the command's logger.
    func makeLogger(label: String) -> Logger {
        let (format, level) = (format, level)
        LoggingSystem.bootstrap { label in
            var handler = StructuredLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension StructuredLogHandler.Format: ExpressibleByArgument {}
extension AuditDisclosureTiming: ExpressibleByArgument {}
extension TaskExecutorChoice: ExpressibleByArgument {}
