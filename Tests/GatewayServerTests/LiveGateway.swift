import AsyncHTTPClient
import CareRecords
import Foundation
import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Policy
import ProviderSimulator
import Providers

/// The whole request path on loopback with ephemeral ports: the six simulated providers over real HTTP, the
/// gateway with real `HTTPProviderAdapter`s built from the simulator's provider files, and a real HTTP client.
struct LiveGateway {
    let simulator: ProviderSimulator
    let client: any TestClientProtocol
    let providers: ProviderDirectory
    let endpoints: [SimulatedEndpoint]
    /// The gateway's access control: mint tokens with it, read its audit trail.
    let access: TestAccess

    var population: SyntheticPopulation { simulator.population }

    /// Runs `body` against a fresh simulator and gateway; `faults` are set before the first request.
    static func run(
        deadlineMilliseconds: Int = 2_000, faults: [ProviderID: SimulatedFault] = [:], providersFolder: String? = nil,
        storeURL: String? = nil, dataDirectory: String? = nil, providerCredentials: String? = nil,
        providerChanges: (any ProviderChangeLog)? = nil, gateways: [TokenVerifier] = [],
        extraProviders: [ProviderDefinition] = [], logger: Logger = Logger(label: "caregate.test"),
        _ body: @Sendable (LiveGateway) async throws -> Void
    ) async throws {
        let simulator = ProviderSimulator(population: Self.population)
        let endpoints = try await simulator.start()
        let access: TestAccess
        do {
            access = try await TestAccess.make(
                storeURL: storeURL, dataDirectory: dataDirectory, gateways: gateways, logger: logger)
        } catch {
            try await simulator.shutdown()
            throw error
        }
        defer { if dataDirectory == nil { access.remove() } }
        do {
            for (provider, fault) in faults { try simulator.setFault(fault, for: provider) }
            let definitions = try endpoints.map { endpoint in
                try ProviderDefinition(
                    yaml: endpoint.providerDefinitionYAML(), file: "\(endpoint.id).yaml", relativeTo: Self.providersFolder)
            } + extraProviders
            let providers = try ProviderDirectory(definitions: definitions, logger: logger) { definition in
                HTTPProviderAdapter(definition: definition, logger: logger)
            }
            var configuration = GatewayConfiguration(port: 0, deadlineMilliseconds: deadlineMilliseconds)
            configuration.providerCredentialsDirectory = providerCredentials
            configuration.schemasDirectory = Self.schemasFolder
            // As `serve` does with a shared store: provider changes go through it.
            var shared: SharedProviders?
            if let providerChanges {
                shared = try await SharedProviders(
                    log: providerChanges, providers: providers,
                    folder: Self.providersFolder, files: .within([Self.providersFolder]), logger: logger)
            }
            let app = buildApplication(
                configuration: configuration, providers: providers, access: access.control,
                providersFolder: providersFolder, sharedProviders: shared, logger: logger)
            try await app.test(.live) { client in
                try await body(
                    LiveGateway(
                        simulator: simulator, client: client, providers: providers, endpoints: endpoints, access: access))
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

    /// The repository's `schemas/` folder (the official FHIR and CDA XSDs).
    static let schemasFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("schemas").path

    /// GETs a patient's record as a clinician (R8000) launched for that patient; returns the decoded view, the
    /// `CareGate-Complete` header and the elapsed time.
    func record(_ nhsNumber: NHSNumber) async throws -> (view: RecordView, completeHeader: String?, elapsed: Duration) {
        let answer = try await recordAnswer(nhsNumber)
        return (answer.view, answer.completeHeader, answer.elapsed)
    }

    struct RecordAnswer {
        var view: RecordView
        var completeHeader: String?
        var elapsed: Duration
        /// `Server-Timing`'s durations in milliseconds, by name (`providers`, `policy`, `audit`, `gateway`, `total`).
        var serverTiming: [String: Double]
    }

    /// As `record`, with the gateway's own account of where the time went.
    func recordAnswer(_ nhsNumber: NHSNumber) async throws -> RecordAnswer {
        let headers = try await access.headers(patient: nhsNumber)
        let start = ContinuousClock.now
        return try await client.execute(
            uri: "/v1/patients/\(nhsNumber.digits)/record", method: .get, headers: headers
        ) { response in
            let elapsed = start.duration(to: .now)
            guard response.status == .ok else {
                throw LiveGatewayError.unexpectedStatus(Int(response.status.code), String(buffer: response.body))
            }
            let view = try JSONDecoder().decode(RecordView.self, from: Data(buffer: response.body))
            return RecordAnswer(
                view: view, completeHeader: response.headers[.careGateComplete], elapsed: elapsed,
                serverTiming: serverTimingDurations(response.headers[.serverTiming] ?? ""))
        }
    }
}

/// `Server-Timing`'s durations in milliseconds, by metric name:
/// `providers;dur=80.412;desc="slowest provider", audit;dur=0.402;desc="durable audit write", total;dur=81.143`.
func serverTimingDurations(_ header: String) -> [String: Double] {
    var durations: [String: Double] = [:]
    for metric in header.split(separator: ",") {
        let parts = metric.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let name = parts.first else { continue }
        durations[name] = parts.first { $0.hasPrefix("dur=") }.flatMap { Double($0.dropFirst(4)) }
    }
    return durations
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
