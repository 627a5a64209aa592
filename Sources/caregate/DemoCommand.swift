import ArgumentParser
import GatewayServer
import Logging
import ProviderSimulator
import Providers

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run six simulated providers and the gateway in one process, with embedded defaults.")

    @Option(name: .long, help: "Port for the gateway.")
    var port: Int = 8080

    @Option(name: .customLong("deadline-ms"), help: "Deadline for a whole query, in milliseconds.")
    var deadlineMilliseconds: Int = 2000

    @Option(name: .long, help: "The folder holding the simulated providers' mapping files.")
    var providers: String = "providers"

    @OptionGroup var faults: FaultOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (1...60_000).contains(deadlineMilliseconds) else {
            throw ValidationError("--deadline-ms must be between 1 and 60000")
        }
    }

    func run() async throws {
        let logger = logging.makeLogger(label: "caregate.demo")
        let (simulator, endpoints) = try await ProviderSimulator.startStandardSix(
            ephemeralPorts: false, faults: faults, logger: logger)
        let directory: ProviderDirectory
        do {
            directory = try ProviderDirectory(definitions: try endpoints.map { try $0.gatewayDefinition(providersFolder: providers) }, logger: logger) {
                definition in HTTPProviderAdapter(definition: definition, logger: logger)
            }
        } catch {
            try await simulator.shutdown()
            throw error
        }
        for endpoint in endpoints { print(endpoint.announcement) }

        let demoPatient = simulator.population.demoPatient.nhsNumber
        let configuration = GatewayConfiguration(port: port, deadlineMilliseconds: deadlineMilliseconds)
        let app = buildApplication(
            configuration: configuration, providers: directory, logger: logger,
            services: [SimulatorService(simulator: simulator)]
        ) { boundPort in
            say(
                """
                CareGate ready on http://\(configuration.host):\(boundPort) — \(endpoints.count) providers, \
                deadline \(configuration.deadlineMilliseconds) ms. Try (synthetic demo patient):
                  curl -s http://\(configuration.host):\(boundPort)/v1/patients/\(demoPatient)/record
                Ctrl-C stops.
                """)
        }
        try await app.runService()
    }
}
