import ArgumentParser
import CareRecords
import GatewayServer
import Logging
import Policy
import ProviderSimulator
import Providers
import ServiceLifecycle

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

    @Option(name: .long, help: "The role policy.")
    var policy: String = "deploy/policy.yaml"

    @Option(
        name: .customLong("data-dir"),
        help: "Folder for the demo's own state: its signing key, opt-outs and audit trail (never clinical data).")
    var dataDirectory: String = "data"

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
        let configuration = GatewayConfiguration(
            port: port, deadlineMilliseconds: deadlineMilliseconds, dataDirectory: dataDirectory, policyFile: policy)
        let (simulator, endpoints) = try await ProviderSimulator.startStandardSix(
            ephemeralPorts: false, faults: faults, logger: logger)
        // The demo is its own identity provider: it trusts the key in its data directory, which `caregate token`
        // signs with. `serve` never does unless that key's JWKS is configured.
        let signingKey: DemoSigningKey
        let access: AccessControl
        do {
            signingKey = try DemoSigningKey(dataDirectory: dataDirectory)
            access = try await AccessControl.open(
                configuration: configuration, verifier: try await signingKey.verifier(), logger: logger)
        } catch {
            try await simulator.shutdown()
            throw ValidationError("\(error)")
        }
        let directory: ProviderDirectory
        do {
            directory = try ProviderDirectory(definitions: try endpoints.map { try $0.gatewayDefinition(providersFolder: providers) }, logger: logger) {
                definition in HTTPProviderAdapter(definition: definition, logger: logger)
            }
        } catch {
            try await simulator.shutdown()
            await access.shutdown()
            throw error
        }
        for endpoint in endpoints { print(endpoint.announcement) }

        let demoPatient = simulator.population.demoPatient.nhsNumber
        let token = try await signingKey.sign(AccessClaims.demo(role: "R8000", patient: demoPatient, ttl: .seconds(8 * 3600)))
        let readiness = Readiness()
        let app = buildApplication(
            configuration: configuration, providers: directory, access: access, logger: logger,
            services: [SimulatorService(simulator: simulator)], readiness: readiness
        ) { boundPort in
            say(
                """
                CareGate ready on http://\(configuration.host):\(boundPort) — \(endpoints.count) providers, \
                deadline \(configuration.deadlineMilliseconds) ms. Try (synthetic demo patient; the token is a \
                clinician's, valid 8 h — mint others with `swift run caregate token --help`):
                  export CAREGATE_TOKEN=\(token)
                  curl -s -H "Authorization: Bearer $CAREGATE_TOKEN" http://\(configuration.host):\(boundPort)/v1/patients/\(demoPatient)/record
                Ctrl-C stops.
                """)
        }
        try await ServiceGroup(
            services: [app, ReadinessGate(readiness: readiness, drainDelay: .zero, logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        ).run()
    }
}
