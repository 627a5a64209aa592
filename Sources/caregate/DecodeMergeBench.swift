import ArgumentParser
import CLibXML2
import CareRecords
import Foundation
import Logging
import ProviderFormats
import ProviderSimulator
import Providers
import RecordMerge
import XMLSupport

/// Decoder throughput on the simulated providers' real responses, side by side with raw libxml2 SAX2 (counting
/// elements only, no Swift strings: the practical limit) on the same bytes.
struct DecodeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "MB/s of each decoder (FHIR, CDA, mapped XML) against raw libxml2 SAX2.")

    @Option(help: "Seconds per row: a format's three rows are timed in turns for three times this.") var seconds = 3.0
    @Option(name: .long, help: "The folder holding the simulated providers' mapping files.") var providers = "providers"
    @Option(name: .long, help: "Also write every response measured into this folder, as FORMAT/PROVIDER-N.xml (for profiling).")
    var dumpBodies: String?
    @Option(name: .long, help: "Only these formats, comma-separated (fhir-r4-xml, cda, mapped-xml); all by default.")
    var formats: String?
    @Option(
        name: .long,
        help: "Only these simulated providers' responses, comma-separated (mh-trust-documents, nhs111, …); all by default.")
    var feeds: String?

    func validate() throws {
        let known = Set(SimulatedProviderID.all.map(\.description))
        if let unknown = feeds?.split(separator: ",").first(where: { !known.contains(String($0)) }) {
            throw ValidationError("--feeds: no simulated provider '\(unknown)'")
        }
    }

    func run() async throws {
        let feeds = feeds.map { Set($0.split(separator: ",").map(String.init)) }
        let logger = Logger(label: "caregate.bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let (simulator, endpoints) = try await ProviderSimulator.startStandardSix(
            ephemeralPorts: true, faults: try FaultOptions.parse([]), logger: logger)
        var bodies: [ProviderFormat: [(ProviderID, [UInt8])]] = [:]
        var decoders: [ProviderID: any RecordDecoder] = [:]
        for endpoint in endpoints where feeds?.contains(endpoint.id.description) ?? true {
            let adapter = HTTPProviderAdapter(definition: try endpoint.gatewayDefinition(providersFolder: providers), logger: logger)
            decoders[endpoint.id] = adapter.decoder
            for patient in simulator.population.patients {
                let response = try await adapter.exchange(patient.nhsNumber, deadline: .now + .seconds(5))
                if response.status == 200 { bodies[adapter.definition.format, default: []].append((endpoint.id, response.body)) }
            }
            try await adapter.shutdown()
        }
        try await simulator.shutdown()
        if let dumpBodies { try Self.dump(bodies, into: dumpBodies) }

        say("CareGate decode benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, "
            + "\(simulator.population.patients.count) patients' responses per feed, \(seconds) s per row")
        say("| format | documents | mean size | decoder MB/s | element tree alone MB/s | raw SAX2 MB/s | decoder / raw "
            + "| raw SAX2, parser reused MB/s | decoder / reused raw | steal |")
        say("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        let measured = try formats.map { list in
            try list.split(separator: ",").map { name in
                guard let format = ProviderFormat(rawValue: String(name)) else {
                    throw ValidationError("--formats: unknown format '\(name)'")
                }
                return format
            }
        } ?? [ProviderFormat.fhirR4XML, .cda, .mappedXML]
        for format in measured {
            guard let documents = bodies[format], !documents.isEmpty else { continue }
            let bytes = documents.reduce(0) { $0 + $1.1.count }
            // A document that fails would be timed as a fast refusal: every one must decode first.
            for (provider, body) in documents {
                do {
                    _ = try decoders[provider]!.decode(body, from: provider)
                } catch {
                    throw ValidationError("\(provider) response of \(body.count) bytes does not decode: \(error)")
                }
            }
            // The four are timed in turns, one pass each, so that a noisy neighbour (this VM's steal time
            // varies from minute to minute) slows all alike rather than skewing their ratio.
            // The element tree alone is what every decoder starts from (the mapped one through XPathDocument).
            // SafeXMLParser keeps its libxml2 parsers between documents; raw SAX2 is measured both ways, with a
            // new parser per document and with one parser reset between documents.
            let stealBefore = StealTime.now()
            let reused = RawSAX2.ReusedParser()
            let rates = Self.rates(bytes: bytes, seconds: seconds * 4, [
                { for (provider, body) in documents { _ = try? decoders[provider]!.decode(body, from: provider) } },
                { for (_, body) in documents { _ = try? SafeXMLParser.parse(body) } },
                { for (_, body) in documents { _ = RawSAX2.countElements(body) } },
                { for (_, body) in documents { _ = reused.countElements(body) } },
            ])
            let (decoded, tree, raw, rawReused) = (rates[0], rates[1], rates[2], rates[3])
            func rate(_ value: Double) -> String { String(format: "%.0f", value) }
            func share(_ value: Double) -> String { String(format: "%.0f %%", value * 100) }
            say("| \(format.rawValue) | \(documents.count) | \(bytes / documents.count / 1024) KB | \(rate(decoded)) | "
                + "\(rate(tree)) | \(rate(raw)) | \(share(decoded / raw)) | \(rate(rawReused)) | \(share(decoded / rawReused)) | "
                + "\(StealTime.share(from: stealBefore, to: StealTime.now())) |")
        }
    }

    /// Writes the measured responses out, so a profiler or another harness can read exactly the same bytes.
    static func dump(_ bodies: [ProviderFormat: [(ProviderID, [UInt8])]], into folder: String) throws {
        for (format, documents) in bodies {
            let directory = URL(fileURLWithPath: folder).appendingPathComponent(format.rawValue)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (index, (provider, body)) in documents.enumerated() {
                try Data(body).write(to: directory.appendingPathComponent("\(provider.rawValue)-\(index + 1).xml"))
            }
        }
    }

    /// MB/s of each of `bodies` over `bytes`: one warm-up pass each, then passes in turns until `seconds` have
    /// passed in all, each body's time summed apart.
    static func rates(bytes: Int, seconds: Double, _ bodies: [() -> Void]) -> [Double] {
        for body in bodies { body() }
        var spent = Array(repeating: Duration.zero, count: bodies.count)
        var passes = 0
        let start = ContinuousClock.now
        repeat {
            for (index, body) in bodies.enumerated() {
                let passStart = ContinuousClock.now
                body()
                spent[index] += passStart.duration(to: .now)
            }
            passes += 1
        } while start.duration(to: .now).seconds < seconds
        return spent.map { Double(bytes * passes) / 1_048_576 / $0.seconds }
    }
}

/// Merge throughput at growing sizes, 30 % of entries duplicated across providers: the cost per entry must stay
/// flat as the record grows.
struct MergeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Entries/s of the merge at 1k, 10k and 100k entries (30 % duplicates).")

    func run() async throws {
        say("CareGate merge benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores")
        say("| entries | merged | ms | entries/s | ns per entry |")
        say("|---:|---:|---:|---:|---:|")
        for size in [1_000, 10_000, 100_000] {
            let entries = Self.entries(size)
            _ = RecordMerger.merge(entries)
            var best = Duration.seconds(3600)
            var merged = 0
            for _ in 0..<5 {
                let start = ContinuousClock.now
                merged = RecordMerger.merge(entries).entries.count
                best = min(best, start.duration(to: .now))
            }
            let seconds = best.seconds
            say("| \(size) | \(merged) | \(String(format: "%.1f", seconds * 1000)) | "
                + "\(String(format: "%.0f", Double(size) / seconds)) | \(String(format: "%.0f", seconds * 1e9 / Double(size))) |")
        }
    }

    /// `count` entries from six providers; 30 % repeat an earlier fact from another provider (same identifier).
    static func entries(_ count: Int) -> [CareEntry] {
        let categories = EntryCategory.allCases
        var generator = SystemRandomNumberGenerator()
        var entries: [CareEntry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let provider = ProviderID("provider-\(index % 6)")
            if index >= 10, Double.random(in: 0..<1, using: &generator) < 0.3 {
                var copy = entries[Int.random(in: 0..<(index - 1), using: &generator)]
                copy.source = SourceReference(provider: provider, id: "\(index)")
                entries.append(copy)
                continue
            }
            entries.append(CareEntry(
                category: categories[index % categories.count],
                code: Coding(system: Coding.System.snomedCT, code: String(100_000 + index), display: "Concept \(index)"),
                date: ClinicalDate("2024-\(String(format: "%02d", index % 12 + 1))-\(String(format: "%02d", index % 28 + 1))"),
                summary: "Fact \(index)", status: "active",
                identifiers: [EntryIdentifier(system: "https://example.org/fact", value: "F\(index)")],
                source: SourceReference(provider: provider, id: "\(index)")))
        }
        return entries
    }
}

/// libxml2 SAX2 from memory, counting start tags only: the fastest any decoder could read the same bytes.
enum RawSAX2 {
    final class Counter {
        var elements = 0
    }

    static let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_NOERROR.rawValue)

    static func handler() -> xmlSAXHandler {
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        // With user data given to the parser, SAX callbacks receive it as their first argument.
        handler.startElementNs = { user, _, _, _, _, _, _, _, _ in
            guard let user else { return }
            Unmanaged<Counter>.fromOpaque(user).takeUnretainedValue().elements += 1
        }
        return handler
    }

    /// With a new parser for the document, as a one-off parse does.
    static func countElements(_ bytes: [UInt8]) -> Int {
        var handler = handler()
        guard let context = xmlCreatePushParserCtxt(&handler, nil, nil, 0, nil) else { return 0 }
        defer { xmlFreeParserCtxt(context) }
        xmlCtxtUseOptions(context, options)
        return count(bytes, with: context)
    }

    private static func count(_ bytes: [UInt8], with context: xmlParserCtxtPtr) -> Int {
        let counter = Counter()
        let unmanaged = Unmanaged.passRetained(counter)
        defer { unmanaged.release() }
        context.pointee.userData = unmanaged.toOpaque()
        _ = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                xmlParseChunk(context, pointer, Int32(buffer.count), 1)
            }
        }
        return counter.elements
    }

    /// One parser, reset between documents (`xmlCtxtResetPush`), as `SafeXMLParser` keeps its own. For one thread.
    final class ReusedParser {
        private let context: xmlParserCtxtPtr

        init() {
            var handler = RawSAX2.handler()
            context = xmlCreatePushParserCtxt(&handler, nil, nil, 0, nil)!
        }

        deinit {
            xmlFreeParserCtxt(context)
        }

        func countElements(_ bytes: [UInt8]) -> Int {
            guard xmlCtxtResetPush(context, nil, 0, nil, nil) == 0 else { return 0 }
            xmlCtxtUseOptions(context, RawSAX2.options)
            return RawSAX2.count(bytes, with: context)
        }
    }
}
