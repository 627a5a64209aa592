import CareRecords

/// The pure half of a simulated provider: request target in, response out. No I/O, so routing and error bodies are
/// the same whether reached over a socket or called directly.
struct ProviderResponder: Sendable {
    struct Response: Equatable {
        var status: Int
        var contentType: String
        var body: [UInt8]
        /// True for a `$everything` Bundle, the only response the `malformed` fault corrupts.
        var isBundle: Bool
    }

    static let fhirXML = "application/fhir+xml; charset=utf-8"

    let definition: SimulatedProviderDefinition
    let population: SyntheticPopulation

    func bundle(for nhsNumber: NHSNumber) -> [UInt8] {
        FHIRBundleWriter.bundle(provider: definition, patient: population.patient(nhsNumber))
    }

    /// Routes `GET /fhir/Patient/{nhs}/$everything` (the `$` possibly sent as `%24`; any query ignored).
    func respond(method: String, uri: String) -> Response {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { percentDecoded($0) }
        guard segments.count == 5, segments[0] == "", segments[1] == "fhir", segments[2] == "Patient",
            segments[4] == "$everything"
        else {
            return outcome(404, code: "not-found", "Only GET /fhir/Patient/{nhs}/$everything is supported")
        }
        guard method == "GET" else {
            return outcome(405, code: "not-supported", "Only GET is supported")
        }
        guard let nhs = segments[3] else {
            return outcome(400, code: "invalid", "The NHS number is not correctly percent-encoded")
        }
        let nhsNumber: NHSNumber
        do {
            nhsNumber = try NHSNumber(nhs)
        } catch {
            return outcome(400, code: "invalid", "Invalid NHS number: \(error.description)")
        }
        return Response(status: 200, contentType: Self.fhirXML, body: bundle(for: nhsNumber), isBundle: true)
    }

    func outcome(_ status: Int, code: String, _ diagnostics: String) -> Response {
        Response(
            status: status, contentType: Self.fhirXML, body: OperationOutcome.xml(code: code, diagnostics: diagnostics),
            isBundle: false)
    }

    /// The body the `http-STATUS` fault sends.
    func simulatedError(status: Int) -> Response {
        outcome(status, code: status >= 500 ? "exception" : "processing", "Simulated provider error (fault injection)")
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
