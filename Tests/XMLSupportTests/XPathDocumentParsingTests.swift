import Testing
import XMLSupport

/// `XMLDocument` refuses what `SafeXMLParser` refuses, and its errors never quote the document.
@Suite struct XPathDocumentParsingTests {
    func parse(_ text: String, limits: XMLParseLimits = XMLParseLimits()) throws(XMLParseError) -> XMLDocument {
        try XMLDocument(parsing: Array(text.utf8), limits: limits)
    }

    /// Parses `text`, expecting a refusal; returns the error.
    func refusal(_ text: String, limits: XMLParseLimits = XMLParseLimits()) -> XMLParseError? {
        refusal(Array(text.utf8), limits: limits)
    }

    func refusal(_ bytes: [UInt8], limits: XMLParseLimits = XMLParseLimits()) -> XMLParseError? {
        do {
            let document = try XMLDocument(parsing: bytes, limits: limits)
            Issue.record("expected a refusal, got a document with root \(document.root)")
            return nil
        } catch {
            return error
        }
    }

    /// Everything a refusal says, for checking that none of it comes from the document.
    func everything(_ error: XMLParseError) -> String {
        "\(error.description) \(error.detail ?? "") \(error)"
    }

    @Test func refusesADoctypeBeforeReadingIt() {
        let error = refusal(
            """
            <?xml version="1.0"?>
            <!DOCTYPE a [<!ENTITY e "x">]>
            <a>&e;</a>
            """)
        #expect(error?.reason == .doctypeForbidden)
        #expect(error?.line == 2)
        #expect(error?.description == "DOCTYPE not allowed (DTDs and entities are refused) at line 2")
    }

    @Test(arguments: [
        // An external general entity in content.
        """
        <?xml version="1.0"?>
        <!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <foo>&xxe;</foo>
        """,
        // In an attribute value.
        """
        <!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo a="&xxe;"/>
        """,
        // An external DTD.
        """
        <!DOCTYPE foo SYSTEM "file:///etc/passwd"><foo/>
        """,
        // A parameter entity.
        """
        <!DOCTYPE foo [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><foo/>
        """,
        // Over the network.
        """
        <!DOCTYPE foo [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]><foo>&xxe;</foo>
        """,
    ])
    func neverReadsAnExternalEntity(_ xxe: String) {
        guard let error = refusal(xxe) else { return }
        #expect(error.reason == .doctypeForbidden)
        #expect(!everything(error).contains("root:"))
    }

    @Test func refusesAnEntityExpansionBombQuickly() {
        var bomb = #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            bomb += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        bomb += "]><lolz>&lol9;</lolz>"
        let clock = ContinuousClock()
        let started = clock.now
        #expect(refusal(bomb)?.reason == .doctypeForbidden)
        #expect(clock.now - started < .seconds(1))
    }

    @Test func refusesAnEntityReferenceWithoutADoctype() {
        let error = refusal("<foo>&xxe;</foo>")
        #expect(error?.reason == .malformed)
        #expect(error?.description.contains("xxe") == false)
    }

    @Test func doesNotProcessXInclude() throws {
        let document = try parse(
            """
            <r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/></r>
            """)
        let text = try document.string(XPathExpression("string(/r)"))
        #expect(text == nil)
        #expect(try document.nodes(matching: XPathExpression("/r/*")).count == 1)
    }

    @Test func refusesNestingDeeperThanTheCap() {
        let deep = "<a>\n" + String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40) + "</a>"
        let error = refusal(deep, limits: XMLParseLimits(maxDepth: 32))
        #expect(error?.reason == .tooDeep(limit: 32))
        #expect(error?.line == 2)
        #expect(throws: Never.self) { try parse(deep, limits: XMLParseLimits(maxDepth: 41)) }
    }

    @Test func libxml2sOwnNestingLimitIsReportedAsTooDeep() {
        let deep = String(repeating: "<a>", count: 300) + String(repeating: "</a>", count: 300)
        #expect(refusal(deep, limits: XMLParseLimits(maxDepth: 1000))?.reason == .tooDeep(limit: 256))
    }

    @Test func refusesADocumentLargerThanTheCapBeforeParsing() {
        // Not even well-formed: the size is checked first.
        let big = [UInt8](repeating: UInt8(ascii: "<"), count: 2048)
        #expect(refusal(big, limits: XMLParseLimits(maxBytes: 1024))?.reason == .tooLarge(limit: 1024))
        #expect(throws: Never.self) { try parse("<a/>", limits: XMLParseLimits(maxBytes: 4)) }
    }

    @Test func reportsTheLineOfTruncatedXML() {
        let error = refusal(
            """
            <EPCRExport>
              <Incident id="inc-1">
                <Type code="1234" display="SECRETDISPLAY"/>
                <Outcome>Conv
            """)
        #expect(error?.reason == .malformed)
        #expect(error?.line == 4)
        #expect(error.map(\.description)?.hasPrefix("malformed XML at line 4") == true)
    }

    @Test func keepsDocumentTextOutOfTheDescription() {
        let error = refusal("<Patient>\n<SECRETNAME>Smith</SECRETNAMEX></Patient>")
        #expect(error?.reason == .malformed)
        #expect(error?.line == 2)
        #expect(error?.description.contains("SECRET") == false)
        // libxml2's own message may name it; it is kept apart, for debug logs.
        #expect(error?.detail?.isEmpty == false)
    }

    @Test func refusesInvalidUTF8() {
        var bytes = Array("<a>caf".utf8)
        bytes += [0xC3, 0x28, 0xFF]
        bytes += Array("</a>".utf8)
        #expect(refusal(bytes)?.reason == .invalidEncoding)
        // A lone continuation byte in an attribute value, on line 2.
        let attribute = Array("<a>\n<b v=\"".utf8) + [0x80] + Array("\"/></a>".utf8)
        let error = refusal(attribute)
        #expect(error?.reason == .invalidEncoding)
        #expect(error?.line == 2)
    }

    @Test func acceptsUTF8AndADeclaredLatin1() throws {
        let utf8 = try parse("<a>café ✓</a>")
        #expect(try utf8.string(XPathExpression("/a")) == "café ✓")
        let latin1 = try XMLDocument(
            parsing: Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><a>caf"#.utf8) + [0xE9] + Array("</a>".utf8))
        #expect(try latin1.string(XPathExpression("/a")) == "café")
    }

    @Test(arguments: ["", "   \n\t", "<!-- only a comment -->"])
    func refusesADocumentWithoutARootElement(_ text: String) {
        #expect(refusal(text)?.reason == .empty)
    }

    @Test(arguments: ["<a>", "<a></b>", "<a b=\"1\" b=\"2\"/>", "<a/><b/>", "<p:a/>", "<a>\u{1}</a>"])
    func refusesMalformedXML(_ text: String) {
        let error = refusal(text)
        #expect(error?.reason == .malformed || error?.reason == .invalidEncoding)
        #expect(error?.line == 1)
    }
}
