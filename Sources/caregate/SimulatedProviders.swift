import ArgumentParser
import CareRecords
import Foundation
import Logging
import ProviderSimulator
import Providers

/// `--fault ID=FAULT`, repeatable: what the demo and `simulate` inject into a simulated provider.
struct FaultOptions: ParsableArguments {
    @Option(
        name: .customLong("fault"),
        help: ArgumentHelp(
            "Inject a fault into a simulated provider, as ID=FAULT (repeatable).",
            discussion: """
                FAULT is one of: none, delay:MS, delay:MIN-MAX, hang, http-500 (any status), malformed, reset, flaky:PERCENT (reset that share of requests); \
                or a hostile body: doctype, xxe, entity-bomb, deep, oversize:BYTES, oversize-chunked:BYTES, drip:MS, bad-utf8, wrong-type, \
                truncated, cut-off (half the body, then a reset); or charset:NAME (iso-8859-1, windows-1252, utf-16le, utf-16be: \
                the record in that encoding, stated only in the Content-Type).
                """
        ))
    var faults: [String] = []

    func apply(to simulator: ProviderSimulator) throws {
        for text in faults {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--fault '\(text)': expected ID=FAULT, e.g. gp=hang") }
            let fault: SimulatedFault
            do {
                fault = try SimulatedFault(parsing: parts[1])
            } catch {
                throw ValidationError("--fault '\(text)': \(error)")
            }
            do {
                try simulator.setFault(fault, for: ProviderID(parts[0]))
            } catch {
                throw ValidationError("--fault '\(text)': \(error)")
            }
        }
    }
}

extension ProviderSimulator {
    /// Starts the six simulated providers on their standard ports (9101–9106), or ephemeral ones.
    ///   - host: the address to listen on (`0.0.0.0` in a container, so the gateway's container can reach them).
    static func startStandardSix(
        ephemeralPorts: Bool, host: String = "127.0.0.1", faults: FaultOptions, logger: Logger
    ) async throws -> (ProviderSimulator, [SimulatedEndpoint]) {
        let simulator = ProviderSimulator(population: .generate(), host: host, logger: logger)
        try faults.apply(to: simulator)
        let ports = ephemeralPorts ? [:] : Array<SimulatedProviderDefinition>.standardSix.defaultPorts
        do {
            return (simulator, try await simulator.start(ports: ports))
        } catch {
            throw ValidationError("cannot start the simulated providers (is a port in 9101–9106 taken?): \(error)")
        }
    }
}

extension SimulatedEndpoint {
    /// The gateway's definition of this provider, read from the same YAML a provider file would hold, so the
    /// demo exercises exactly the path `serve` takes. Mapping files are read from `providersFolder`.
    func gatewayDefinition(providersFolder: String) throws -> ProviderDefinition {
        do {
            return try ProviderDefinition(
                yaml: providerDefinitionYAML(), file: "\(id).yaml (simulated)", relativeTo: providersFolder)
        } catch {
            throw ValidationError("\(error) (run the demo from the repository root, or pass --providers DIR)")
        }
    }

    var announcement: String {
        "provider \(id.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(kind.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(name) — http://\(host):\(port)"
    }
}
