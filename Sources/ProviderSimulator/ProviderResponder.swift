import CareRecords
import Synchronization

/// The pure half of a simulated provider: request target in, response out. No I/O, so routing and error bodies are
/// the same whether reached over a socket or called directly.
struct ProviderResponder: Sendable {
    struct Response: Equatable {
        var status: Int
        var contentType: String
        var body: [UInt8]
        /// True for a patient's record (a Bundle, a CDA wrapper, a bespoke export): the only response the
        /// body-corrupting faults touch.
        var isRecord: Bool
    }

    static let fhirXML = SimulatedProviderFormat.fhirR4XML.contentType
    static let plainText = "text/plain; charset=utf-8"

    let definition: SimulatedProviderDefinition
    let population: SyntheticPopulation
    private let pathSegments: [Substring]
    /// Records already written, by NHS number: the population is fixed, so a record never changes, and a real
    /// provider's own cost is not the gateway's. Without this the simulator spends more CPU writing XML than the
    /// gateway spends reading it, on the same cores, and the end-to-end benchmark measures the simulator.
    private let written = RecordCache()

    init(definition: SimulatedProviderDefinition, population: SyntheticPopulation) {
        self.definition = definition
        self.population = population
        self.pathSegments = definition.pathTemplate.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// What the provider serves for the patient, in its format; nil for a bespoke format its kind does not have.
    func body(for nhsNumber: NHSNumber) -> [UInt8]? {
        let patient = population.patient(nhsNumber)
        switch definition.format {
        case .fhirR4XML:
            return FHIRBundleWriter.bundle(provider: definition, patient: patient)
        case .cda:
            return CDADocumentWriter.documents(provider: definition, patient: patient)
        case .mappedXML:
            guard let layout = BespokeRecordWriter.Layout(kind: definition.kind) else { return nil }
            return BespokeRecordWriter.record(layout, provider: definition, patient: patient)
        }
    }

    /// Whether the request target's path has this provider's shape (whatever stands in for `{nhs}`).
    func matches(uri: String) -> Bool {
        nhsSegment(of: uri) != nil
    }

    /// Routes `GET` on the provider's path template (`$` possibly sent as `%24`; any query ignored).
    func respond(method: String, uri: String) -> Response {
        guard let segment = nhsSegment(of: uri) else {
            return error(404, code: "not-found", "Only GET \(definition.pathTemplate) is supported")
        }
        guard method == "GET" else {
            return error(405, code: "not-supported", "Only GET is supported")
        }
        guard let nhs = segment else {
            return error(400, code: "invalid", "The NHS number is not correctly percent-encoded")
        }
        let nhsNumber: NHSNumber
        do {
            nhsNumber = try NHSNumber(nhs)
        } catch {
            return self.error(400, code: "invalid", "Invalid NHS number: \(error.description)")
        }
        guard let body = written.body(for: nhsNumber, else: { self.body(for: nhsNumber) }) else {
            return error(501, code: "not-supported", "This kind of provider has no bespoke format")
        }
        return Response(status: 200, contentType: definition.format.contentType, body: body, isRecord: true)
    }

    /// The decoded path segment standing for `{nhs}`: nil when the path does not match, `.some(nil)` when it
    /// matches but the segment is not correctly percent-encoded.
    private func nhsSegment(of uri: String) -> String?? {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == pathSegments.count else { return nil }
        var nhs: String?? = nil
        for (segment, expected) in zip(segments, pathSegments) {
            if expected == "{nhs}" {
                nhs = .some(percentDecoded(segment))
            } else if percentDecoded(segment) != String(expected) {
                return nil
            }
        }
        return nhs
    }

    /// An error answer in the provider's own style: a FHIR OperationOutcome from a FHIR server, plain text from the
    /// others (whose formats have no error document). `diagnostics` must never carry patient data.
    func error(_ status: Int, code: String, _ diagnostics: String) -> Response {
        switch definition.format {
        case .fhirR4XML:
            Response(
                status: status, contentType: Self.fhirXML,
                body: OperationOutcome.xml(code: code, diagnostics: diagnostics), isRecord: false)
        case .cda, .mappedXML:
            Response(status: status, contentType: Self.plainText, body: Array("\(diagnostics)\n".utf8), isRecord: false)
        }
    }

    /// The body the `http-STATUS` fault sends.
    func simulatedError(status: Int) -> Response {
        error(status, code: status >= 500 ? "exception" : "processing", "Simulated provider error (fault injection)")
    }

    /// A 200 whose Bundle stops part-way through, at a tag boundary, and never closes its root: well-formed XML it is
    /// not, but it looks like a response cut off in transit.
    static func truncated(_ body: [UInt8]) -> [UInt8] {
        let cut = max(1, body.count * 3 / 5)
        let boundary = body[..<cut].lastIndex(of: UInt8(ascii: ">")).map { $0 + 1 } ?? cut
        return Array(body[..<boundary]) + Array("<entry><resource><Obs".utf8)
    }

    /// Decodes `%XX` escapes; nil for a malformed escape or bytes that are not UTF-8.
    private func percentDecoded(_ segment: Substring) -> String? {
        guard segment.contains("%") else { return String(segment) }
        var bytes: [UInt8] = []
        var iterator = segment.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A bounded memo of one feed's written records (a simulator serves a fixed population, so a record written once is
/// the same every time). Past `maximumBytes` new records are written each time rather than kept; the standard
/// population's largest feed is about 1 MB.
final class RecordCache: Sendable {
    private struct State {
        var bodies: [NHSNumber: [UInt8]?] = [:]
        var bytes = 0
    }

    private let maximumBytes: Int
    private let state = Mutex(State())

    init(maximumBytes: Int = 16 << 20) {
        self.maximumBytes = maximumBytes
    }

    func body(for patient: NHSNumber, else write: () -> [UInt8]?) -> [UInt8]? {
        if let kept = state.withLock({ $0.bodies[patient] }) { return kept }
        let body = write()
        state.withLock { state in
            let size = body?.count ?? 0
            // Two first requests for one patient may both write it; only the first is kept and counted.
            guard state.bodies[patient] == nil, state.bytes + size <= maximumBytes else { return }
            state.bodies[patient] = .some(body)
            state.bytes += size
        }
        return body
    }
}
