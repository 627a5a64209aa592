import ArgumentParser
import Foundation
import ProviderSimulator
import ServiceLifecycle

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run only the six simulated providers (ports 9101–9106), for running the gateway separately.",
        discussion: "Then: swift run caregate serve --providers providers")

    @OptionGroup var faults: FaultOptions

    @Option(help: "Address to listen on (0.0.0.0 in a container).")
    var host = "127.0.0.1"

    @Option(
        name: .customLong("write-providers"),
        help: "Write the provider files for the simulated providers into this folder and exit.")
    var providersFolder: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        if let providersFolder {
            try writeProviderFiles(to: providersFolder)
            return
        }
        let logger = logging.makeLogger(label: "caregate.simulate")
        let (simulator, endpoints) = try await ProviderSimulator.startStandardSix(
            ephemeralPorts: false, host: host, faults: faults, logger: logger)
        for endpoint in endpoints { print(endpoint.announcement) }
        let demo = simulator.population.demoPatient.nhsNumber
        say("simulated providers ready — e.g. curl http://127.0.0.1:9102/fhir/Patient/\(demo)/\\$everything")
        let group = ServiceGroup(
            services: [SimulatorService(simulator: simulator)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
    }

    private func writeProviderFiles(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let definitions = Array<SimulatedProviderDefinition>.standardSix
        for definition in definitions {
            let path = (folder as NSString).appendingPathComponent("\(definition.id).yaml")
            let port = definitions.defaultPorts[definition.id] ?? definition.defaultPort
            try definition.providerDefinitionYAML(port: port).write(toFile: path, atomically: true, encoding: .utf8)
            say("wrote \(path)")
        }
    }
}

/// Runs the simulated providers for as long as the service group runs, and closes them on graceful shutdown
/// (SIGINT, SIGTERM), including connections a `hang` fault is holding open.
struct SimulatorService: Service {
    let simulator: ProviderSimulator

    func run() async throws {
        try? await gracefulShutdown()
        try await simulator.shutdown()
    }
}
