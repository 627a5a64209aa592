import CareRecords
import Foundation
import GatewayServer
import Logging
import ProviderSimulator
import Providers
import RecordMerge
import Testing

/// The records route writes its JSON by hand for speed; it must be exactly what `JSONEncoder` would write.
@Suite struct RecordViewJSONTests {
    static func encoderBytes(_ view: RecordView) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return Array(try encoder.encode(view))
    }

    /// Manifest lines have no public initialiser (only the gateway makes them): decode them.
    static func line(_ id: String, status: String, latencyMs: Int, entries: Int, error: String?) throws -> RecordView.ProviderLine {
        var object: [String: Any] = ["id": id, "kind": "trust", "status": status, "latencyMs": latencyMs, "entries": entries]
        object["error"] = error
        return try JSONDecoder().decode(RecordView.ProviderLine.self, from: JSONSerialization.data(withJSONObject: object))
    }

    static let skeleton = Data(#"{"complete":true,"entries":[],"patient":{"nhsNumber":"9990000018"},"providers":[],"withheld":0}"#.utf8)

    @Test func everySimulatedPatientsMergedViewIsByteForByteWhatTheEncoderWrites() async throws {
        let population = LiveGateway.population
        let simulator = ProviderSimulator(population: population)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        var adapters: [HTTPProviderAdapter] = []
        for definition in Array<SimulatedProviderDefinition>.standardSix {
            let yaml = definition.providerDefinitionYAML(port: 1)
            adapters.append(
                HTTPProviderAdapter(
                    definition: try ProviderDefinition(yaml: yaml, file: "\(definition.id).yaml", relativeTo: LiveGateway.providersFolder),
                    logger: logger))
        }
        var entriesSeen = 0
        var conflictsSeen = 0
        var dosesGivenSeen = 0
        for patient in population.patients {
            var entries: [CareEntry] = []
            for adapter in adapters {
                guard let body = simulator.body(for: adapter.definition.id, patient: patient.nhsNumber) else { continue }
                entries += try adapter.decoder.decode(body, from: adapter.definition.id).entries
            }
            var view = try JSONDecoder().decode(RecordView.self, from: Self.skeleton)
            view.patient.nhsNumber = patient.nhsNumber.digits
            view.entries = RecordMerger.merge(entries).entries
            view.providers = [
                try Self.line("gp", status: "ok", latencyMs: 12, entries: 3, error: nil),
                try Self.line("care-home", status: "timeout", latencyMs: 800, entries: 0, error: "no answer within 800 ms"),
            ]
            view.complete = false
            view.withheld = patient.index % 3
            entriesSeen += view.entries.count
            conflictsSeen += view.entries.filter { $0.conflict != nil }.count
            dosesGivenSeen += view.entries.filter(\.administered).count
            #expect(view.jsonBytes() == (try Self.encoderBytes(view)), "patient \(patient.index)")
        }
        #expect(entriesSeen > 1_000)
        #expect(conflictsSeen > 0, "the population's conflicts are covered")
        #expect(dosesGivenSeen > 0, "the ambulance's doses given are covered")
        for adapter in adapters { try await adapter.shutdown() }
    }

    @Test func awkwardTextAndEveryOptionalFieldRoundTrip() throws {
        var awkward = "quote \" backslash \\ slash / tab \t newline \n return \r é ✓ 🫀 NUL \u{0} bell \u{7} \u{1F} end"
        awkward += String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        var view = try JSONDecoder().decode(RecordView.self, from: Self.skeleton)
        view.breakGlass = true
        view.entries = [
            MergedEntry(
                id: awkward, category: .medication, code: Coding(system: "https://dmd.nhs.uk", code: "39720311000001101", display: awkward),
                date: ClinicalDate("2026-11-20T09:30:00Z"), summary: awkward, status: "active",
                value: Quantity(value: "5.00", unit: "mg/L"), dose: awkward,
                sources: [SourceReference(provider: "gp", id: "a/b"), SourceReference(provider: "mh-trust", id: awkward)],
                conflict: Conflict(field: "dose", with: ["x", awkward])),
            MergedEntry(
                id: "bare", category: .document, code: Coding(display: "only a display"), date: nil, summary: "s",
                status: nil, value: Quantity(value: "7"), dose: nil, sources: [SourceReference(provider: "gp", id: "1")]),
            MergedEntry(
                id: "no-code", category: .allergy, code: nil, date: nil, summary: "", status: nil, value: nil, dose: nil,
                sources: []),
        ]
        view.providers = [try Self.line("gp", status: "error", latencyMs: 0, entries: 0, error: awkward)]
        let bytes = view.jsonBytes()
        #expect(try JSONDecoder().decode(RecordView.self, from: Data(bytes)) == view)
        #expect(bytes == (try Self.encoderBytes(view)))
    }
}
