import ArgumentParser
import GatewayServer
import Logging
import Providers

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway against the providers declared in a folder of provider files.",
        discussion: """
            Flags override the config file; with no config file the defaults apply \
            (127.0.0.1:8080, providers/, 2000 ms deadline, data/).
            """)

    @Option(name: .long, help: "A YAML config file (keys: host, port, providers, deadline_ms, data_dir).")
    var config: String?

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

    @OptionGroup var logging: LoggingOptions

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

        let logger = logging.makeLogger(label: "caregate")
        let registry: ProviderRegistry
        do {
            registry = try ProviderRegistry.load(directory: configuration.providersDirectory)
        } catch {
            throw ValidationError("provider definitions refused: \(error)")
        }
        let providers = try ProviderDirectory(definitions: registry.definitions, logger: logger) { definition in
            HTTPProviderAdapter(definition: definition, logger: logger)
        }
        let host = configuration.host
        let count = registry.definitions.count
        let app = buildApplication(
            configuration: configuration, providers: providers, providersFolder: configuration.providersDirectory,
            logger: logger
        ) { port in
            logger.notice("CareGate ready", metadata: ["url": "http://\(host):\(port)", "providers": "\(count)"])
        }
        try await app.runService()
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var level: Logger.Level = .info

    func makeLogger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
