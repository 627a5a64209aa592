import ProviderSimulator
import Testing

@Suite("Fault text")
struct SimulatedFaultTests {
    @Test(
        "every documented form parses, and prints back the same",
        arguments: [
            ("none", SimulatedFault.none), ("delay:200", .fixedDelay(milliseconds: 200)),
            ("delay:50-300", .randomDelay(minMilliseconds: 50, maxMilliseconds: 300)), ("hang", .hang),
            ("http-500", .httpError(status: 500)), ("http-503", .httpError(status: 503)),
            ("http-429", .httpError(status: 429)), ("malformed", .malformedXML), ("reset", .connectionReset),
            ("doctype", .doctype), ("xxe", .externalEntity), ("entity-bomb", .entityBomb), ("deep", .deepNesting),
            ("oversize:20000000", .oversize(bytes: 20_000_000)), ("drip:250", .drip(intervalMilliseconds: 250)),
            ("bad-utf8", .invalidUTF8), ("wrong-type", .wrongContentType), ("truncated", .truncated),
            ("oversize-chunked:20000000", .oversizeChunked(bytes: 20_000_000)), ("cut-off", .cutOff),
            ("lognormal:40-300", .logNormalDelay(medianMilliseconds: 40, p99Milliseconds: 300)),
            ("charset:iso-8859-1", .charset(.latin1)), ("charset:windows-1252", .charset(.windows1252)),
            ("charset:utf-16le", .charset(.utf16LittleEndian)), ("charset:utf-16be", .charset(.utf16BigEndian)),
        ])
    func parses(text: String, fault: SimulatedFault) throws {
        #expect(try SimulatedFault(parsing: text) == fault)
        #expect(fault.description == text)
        #expect(SimulatedFault(text) == fault)
    }

    @Test("surrounding space and capitals are tolerated")
    func lenient() throws {
        #expect(try SimulatedFault(parsing: "  HANG ") == .hang)
        #expect(try SimulatedFault(parsing: "Delay:10") == .fixedDelay(milliseconds: 10))
    }

    @Test(
        "bad text is refused with an error that names the text",
        arguments: [
            "slow", "", "delay:", "delay:abc", "delay:-5", "delay:300-50", "delay:1-2-3", "delay:999999999",
            "http-200", "http-abc", "http-", "resets", "oversize:", "oversize:0", "oversize:-1", "oversize:2000000000",
            "oversize-chunked:", "oversize-chunked:0", "cut-off:1", "drip:", "drip:0", "drip:fast", "xxe:1", "deep:10",
            "lognormal:", "lognormal:40", "lognormal:300-40", "lognormal:0-10", "lognormal:a-b", "lognormal:40-300-1",
            "charset:", "charset:utf-8", "charset:koi8-r",
        ])
    func refuses(text: String) {
        #expect(throws: SimulatedFaultParseError.self) { try SimulatedFault(parsing: text) }
        do {
            _ = try SimulatedFault(parsing: text)
        } catch {
            #expect(error.text == text)
            #expect(error.description.contains("'\(text)'"))
        }
        #expect(SimulatedFault(text) == nil)
    }

    @Test("an unknown word lists what is accepted")
    func unknownListsForms() {
        do {
            _ = try SimulatedFault(parsing: "slow")
            Issue.record("parsed")
        } catch {
            #expect(error.description == "unknown fault 'slow': expected one of \(SimulatedFaultParseError.acceptedForms)")
        }
    }
}

@Suite("Records in another charset")
struct SimulatedCharsetTests {
    static let body = Array(#"<?xml version="1.0" encoding="UTF-8"?>"#.utf8) + Array("\n<r a=\"Zoë\">£5 — ok</r>".utf8)

    @Test func theDeclarationGoesAndEveryCharacterIsKept() {
        // Latin-1 has no em dash: it goes as a character reference.
        #expect(SimulatedCharset.latin1.transcode(Self.body) == Array("<r a=\"Zo".utf8) + [0xEB] + Array("\">".utf8) + [0xA3]
            + Array("5 &#x2014; ok</r>".utf8))
        #expect(SimulatedCharset.windows1252.transcode(Self.body) == Array("<r a=\"Zo".utf8) + [0xEB] + Array("\">".utf8)
            + [0xA3] + Array("5 ".utf8) + [0x97] + Array(" ok</r>".utf8))
        let utf16 = "<r a=\"Zoë\">£5 — ok</r>".utf16
        #expect(SimulatedCharset.utf16LittleEndian.transcode(Self.body) == utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        #expect(SimulatedCharset.utf16BigEndian.transcode(Self.body) == utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
    }
}
