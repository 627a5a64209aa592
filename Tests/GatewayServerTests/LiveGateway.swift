import AsyncHTTPClient
import CareRecords
import Foundation
import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ProviderSimulator
import Providers

/// The whole request path on loopback with ephemeral ports: the six simulated providers over real HTTP, the
/// gateway with real `HTTPProviderAdapter`s built from the simulator's provider files, and a real HTTP client.
struct LiveGateway {
    let simulator: ProviderSimulator
    let client: any TestClientProtocol
    let providers: ProviderDirectory
    let endpoints: [SimulatedEndpoint]

    var population: SyntheticPopulation { simulator.population }

    /// Runs `body` against a fresh simulator and gateway; `faults` are set before the first request.
    static func run(
        deadlineMilliseconds: Int = 2_000, faults: [ProviderID: SimulatedFault] = [:], providersFolder: String? = nil,
        _ body: @Sendable (LiveGateway) async throws -> Void
    ) async throws {
        let simulator = ProviderSimulator(population: Self.population)
        let endpoints = try await simulator.start()
        do {
            for (provider, fault) in faults { try simulator.setFault(fault, for: provider) }
            let logger = Logger(label: "caregate.test")
            let definitions = try endpoints.map { endpoint in
                try ProviderDefinition(
                    yaml: endpoint.providerDefinitionYAML(), file: "\(endpoint.id).yaml", relativeTo: Self.providersFolder)
            }
            let providers = try ProviderDirectory(definitions: definitions, logger: logger) { definition in
                HTTPProviderAdapter(definition: definition, logger: logger)
            }
            let app = buildApplication(
                configuration: GatewayConfiguration(port: 0, deadlineMilliseconds: deadlineMilliseconds),
                providers: providers, providersFolder: providersFolder, logger: logger)
            try await app.test(.live) { client in
                try await body(LiveGateway(simulator: simulator, client: client, providers: providers, endpoints: endpoints))
            }
        } catch {
            try await simulator.shutdown()
            throw error
        }
        try await simulator.shutdown()
    }

    static let population = SyntheticPopulation.generate()

    /// The repository's `providers/` folder, where the simulated providers' mapping files live.
    static let providersFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("providers").path

    /// GETs a patient's record; returns the decoded view, the `CareGate-Complete` header and the elapsed time.
    func record(_ nhsNumber: NHSNumber) async throws -> (view: RecordView, completeHeader: String?, elapsed: Duration) {
        let start = ContinuousClock.now
        return try await client.execute(uri: "/v1/patients/\(nhsNumber.digits)/record", method: .get) { response in
            let elapsed = start.duration(to: .now)
            guard response.status == .ok else {
                throw LiveGatewayError.unexpectedStatus(Int(response.status.code), String(buffer: response.body))
            }
            let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
            return (view, response.headers[.careGateComplete], elapsed)
        }
    }
}

enum LiveGatewayError: Error {
    case unexpectedStatus(Int, String)
}

extension RecordView {
    func provider(_ id: ProviderID) -> ProviderLine? { providers.first { $0.id == id.rawValue } }

    func entries(from provider: ProviderID) -> [MergedEntry] {
        entries.filter { entry in entry.sources.contains { $0.provider == provider } }
    }
}
