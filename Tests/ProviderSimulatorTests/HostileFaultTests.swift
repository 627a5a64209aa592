import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// The hostile-body faults, seen exactly as a client sees them over a socket: what arrives, and that a safe reader
/// refuses it for the right reason. Each uses a provider of a different format, since the faults rewrite any body.
@Suite("Hostile bodies over HTTP", .timeLimit(.minutes(1)))
struct HostileFaultTests {
    let demo = Shared.population.demoPatient

    /// Sets `fault` on `provider`, fetches the demo patient's record, and hands over the answer and the clean body.
    private func fetchWith(
        _ fault: SimulatedFault, at provider: ProviderID,
        _ check: (RawHTTPConnection.Response, [UInt8]) throws -> Void
    ) async throws {
        try await withSimulator { simulator, endpoints in
            let endpoint = endpoints[id: provider]
            try simulator.setFault(fault, for: provider)
            let response = try await fetch(port: endpoint.port, endpoint.definition.path(for: demo.nhsNumber))
            try check(response, try simulator.served(provider, demo.nhsNumber))
        }
    }

    private func parseFailure(_ bytes: [UInt8], limits: XMLParseLimits = XMLParseLimits()) -> XMLParseError.Reason? {
        do {
            _ = try SafeXMLParser.parse(bytes, limits: limits)
            return nil
        } catch {
            return error.reason
        }
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("doctype: the normal body behind a harmless internal DOCTYPE, refused by a reader that allows no DTD")
    func doctype() async throws {
        try await fetchWith(.doctype, at: SimulatedProviderID.gp) { response, clean in
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/fhir+xml; charset=utf-8")
            let doctype = "<!DOCTYPE Bundle [<!ELEMENT Bundle ANY>]>\n"
            #expect(text(response.body).contains(doctype))
            #expect(text(response.body).replacingOccurrences(of: doctype, with: "") == text(clean))
            #expect(parseFailure(response.body) == .doctypeForbidden)
            #expect(throws: Never.self) { try XPathDocument(response.body, namespaces: [:]) }
        }
    }

    @Test("xxe: an external entity for /etc/passwd, referenced in the first text of a CDA document")
    func externalEntity() async throws {
        try await fetchWith(.externalEntity, at: SimulatedProviderID.nhs111) { response, clean in
            #expect(response.status == 200)
            let body = text(response.body)
            #expect(body.contains("<!DOCTYPE Documents [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"))
            #expect(body.contains("<title>&xxe;NHS 111 post-event message</title>"))
            #expect(body.count > text(clean).count)
            #expect(parseFailure(response.body) == .doctypeForbidden)
            // Well-formed to a parser that leaves entities unexpanded: a real attack, not junk.
            #expect(throws: Never.self) { try XPathDocument(response.body, namespaces: [:]) }
        }
    }

    @Test("entity-bomb: ten levels of entities, each ten of the last, referenced once, in a small body")
    func entityBomb() async throws {
        try await fetchWith(.entityBomb, at: SimulatedProviderID.careHome) { response, clean in
            #expect(response.status == 200)
            let body = text(response.body)
            #expect((0...9).allSatisfy { body.contains("<!ENTITY lol\($0) ") })
            #expect(body.contains("<!ENTITY lol9 \"" + String(repeating: "&lol8;", count: 10) + "\">"))
            #expect(body.contains(">&lol9;Cedar Lodge Care Home</Home>"))
            #expect(response.body.count < clean.count + 2048)
            #expect(parseFailure(response.body) == .doctypeForbidden)
        }
    }

    @Test("deep: 10,000 nested elements inside the root, refused by a depth cap")
    func deepNesting() async throws {
        try await fetchWith(.deepNesting, at: SimulatedProviderID.ambulance) { response, clean in
            #expect(response.status == 200)
            let body = text(response.body)
            #expect(body.components(separatedBy: "<nested>").count - 1 == 10_000)
            #expect(body.contains("<EPCRExport xmlns=\"urn:caregate:example:ambulance-epcr:1\"><nested><nested>"))
            #expect(body.replacingOccurrences(of: "<nested>", with: "").replacingOccurrences(of: "</nested>", with: "") == text(clean))
            #expect(parseFailure(response.body) == .tooDeep(limit: 128))
        }
    }

    @Test("oversize: well-formed, exactly the size asked for, with a Content-Length to match; a size below the body's changes nothing")
    func oversize() async throws {
        let size = 5_000_000
        try await fetchWith(.oversize(bytes: size), at: SimulatedProviderID.cardiac) { response, clean in
            #expect(response.status == 200)
            #expect(response.headers["content-length"] == String(size))
            #expect(response.body.count == size)
            #expect(parseFailure(response.body, limits: XMLParseLimits(maxBytes: size - 1)) == .tooLarge(limit: size - 1))
            let padded = try SafeXMLParser.parse(response.body, limits: XMLParseLimits(maxBytes: size))
            #expect(padded == (try SafeXMLParser.parse(clean)), "the padding is a comment: the document is unchanged")
        }
        try await fetchWith(.oversize(bytes: 100), at: SimulatedProviderID.cardiac) { response, clean in
            #expect(response.body == clean)
        }
    }

    @Test("bad-utf8: bytes that are not UTF-8 inside the first text, refused as an encoding error")
    func invalidUTF8() async throws {
        try await fetchWith(.invalidUTF8, at: SimulatedProviderID.mhTrustDocuments) { response, clean in
            #expect(response.status == 200)
            let invalid: [UInt8] = [0xFF, 0xFE, 0xC3, 0x28]
            let position = try #require(response.body.firstRange(of: invalid))
            #expect(String(validating: response.body, as: UTF8.self) == nil)
            var repaired = response.body
            repaired.removeSubrange(position)
            #expect(repaired == clean)
            #expect(text(Array(response.body[..<position.lowerBound])).hasSuffix("<title>"))
            #expect(parseFailure(response.body) == .invalidEncoding)
        }
    }

    @Test("bad-utf8 in a FHIR body (which has no text) goes inside an attribute value")
    func invalidUTF8InFHIR() async throws {
        try await fetchWith(.invalidUTF8, at: SimulatedProviderID.gp) { response, _ in
            let position = try #require(response.body.firstRange(of: [0xFF, 0xFE, 0xC3, 0x28]))
            #expect(text(Array(response.body[..<position.lowerBound])).hasSuffix("<id value=\""))
            #expect(parseFailure(response.body) == .invalidEncoding)
        }
    }

    @Test("wrong-type: the correct body, labelled text/html")
    func wrongContentType() async throws {
        try await fetchWith(.wrongContentType, at: SimulatedProviderID.careHome) { response, clean in
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/html; charset=utf-8")
            #expect(response.body == clean)
        }
    }

    @Test("truncated: cut inside a start tag, with a Content-Length that matches what was sent")
    func truncated() async throws {
        try await fetchWith(.truncated, at: SimulatedProviderID.gp) { response, clean in
            #expect(response.status == 200)
            #expect(response.headers["content-length"] == String(response.body.count))
            #expect(response.body.count < clean.count && response.body.count > clean.count / 2 - 1)
            #expect(Array(clean.prefix(response.body.count)) == response.body)
            #expect(text(response.body).wholeMatch(of: /(?s).*<[A-Za-z]{1,3}/) != nil)
            #expect(parseFailure(response.body) == .malformed)
        }
    }

    @Test("body faults leave error answers alone")
    func errorsUntouched() async throws {
        try await withSimulator { simulator, endpoints in
            let gp = endpoints[id: SimulatedProviderID.gp]
            for fault in [SimulatedFault.externalEntity, .truncated, .wrongContentType, .oversize(bytes: 1_000_000)] {
                try simulator.setFault(fault, for: gp.id)
                let response = try await fetch(port: gp.port, "/fhir/Patient/1234567890/$everything")
                #expect(response.status == 400)
                #expect(response.headers["content-type"] == "application/fhir+xml; charset=utf-8")
                #expect(try SafeXMLParser.parse(response.body).name == "OperationOutcome", "\(fault)")
            }
        }
    }

    @Test("drip: the head at once, then a few bytes at a time, never ending, until shutdown closes the connection")
    func drip() async throws {
        let simulator = ProviderSimulator(population: Shared.population)
        let endpoints = try await simulator.start()
        let gp = endpoints[id: SimulatedProviderID.gp]
        try simulator.setFault(.drip(intervalMilliseconds: 20), for: gp.id)
        let clean = try simulator.served(gp.id, demo.nhsNumber)
        let target = gp.definition.path(for: demo.nhsNumber)
        let connection = try await offloaded { try RawHTTPConnection(port: gp.port, timeout: .milliseconds(100)) }
        // Read for 600 ms: about 30 drips of 16 bytes, a fraction of the body.
        let received: [UInt8] = try await offloaded {
            try connection.get(target)
            var bytes: [UInt8] = []
            let clock = ContinuousClock()
            let until = clock.now + .milliseconds(600)
            while clock.now < until {
                do {
                    guard let chunk = try connection.readChunk() else { break }
                    bytes += chunk
                } catch RawHTTPConnection.Failure.timedOut {
                    continue
                }
            }
            return bytes
        }
        let separator = try #require(received.firstRange(of: Array("\r\n\r\n".utf8)))
        let head = text(Array(received[..<separator.lowerBound])).lowercased()
        #expect(head.hasPrefix("http/1.1 200"))
        #expect(head.contains("transfer-encoding: chunked") && !head.contains("content-length"))
        let body = dechunked(Array(received[separator.upperBound...]))
        #expect(body.count >= 16 * 5 && body.count < clean.count / 2, "\(body.count) bytes in 600 ms")
        #expect(Array(clean.prefix(body.count)) == body)
        #expect(received.firstRange(of: Array("\r\n0\r\n\r\n".utf8)) == nil, "never the last chunk")

        let clock = ContinuousClock()
        let started = clock.now
        try await simulator.shutdown()
        #expect(clock.now - started < .seconds(2))
        let afterwards: Bool = try await offloaded {
            // After shutdown the stream ends (or is reset) promptly, whatever was still in flight.
            for _ in 0..<20 {
                do {
                    guard try connection.readChunk() != nil else { return true }
                } catch RawHTTPConnection.Failure.timedOut {
                    return false
                } catch {
                    return true
                }
            }
            return false
        }
        #expect(afterwards)
    }

    /// The data of a chunked body (as much as has arrived).
    private func dechunked(_ bytes: [UInt8]) -> [UInt8] {
        var data: [UInt8] = []
        var rest = bytes[...]
        while let lineEnd = rest.firstRange(of: Array("\r\n".utf8)),
            let size = Int(text(Array(rest[..<lineEnd.lowerBound])), radix: 16), size > 0
        {
            let start = lineEnd.upperBound
            let end = min(start + size, rest.endIndex)
            data += rest[start..<end]
            guard end + 2 <= rest.endIndex else { break }
            rest = rest[(end + 2)...]
        }
        return data
    }
}
