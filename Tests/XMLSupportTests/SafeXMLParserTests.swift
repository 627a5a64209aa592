import Testing
import XMLSupport

@Suite struct SafeXMLParserTests {
    func parse(_ text: String, limits: XMLParseLimits = XMLParseLimits()) throws(XMLParseError) -> XMLElement {
        try SafeXMLParser.parse(Array(text.utf8), limits: limits)
    }

    @Test func buildsATreeWithNamespacesAttributesAndText() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Bundle xmlns="http://hl7.org/fhir" xmlns:x="urn:x">
              <type value="searchset"/>
              <entry><resource><Patient><id value="p1"/></Patient></resource></entry>
              <x:note x:lang="en">first <![CDATA[& second]]></x:note>
            </Bundle>
            """)
        #expect(root.name == "Bundle")
        #expect(root.namespace == "http://hl7.org/fhir")
        #expect(root.child("type")?.attribute("value") == "searchset")
        #expect(root.descendant("entry", "resource", "Patient", "id")?.attribute("value") == "p1")
        let note = try #require(root.child("note"))
        #expect(note.namespace == "urn:x")
        #expect(note.attribute("lang", namespace: "urn:x") == "en")
        #expect(note.text == "first & second")
        #expect(root.line == 2)
    }

    @Test func anElementBuiltInCodeEqualsTheSameElementParsed() throws {
        let parsed = try parse(#"<r xmlns="urn:a" k="v"><c x="1">t</c>  <c/></r>"#)
        let built = XMLElement(
            name: "r", namespace: "urn:a", attributes: [XMLAttribute(name: "k", value: "v")],
            children: [
                XMLElement(
                    name: "c", namespace: "urn:a", attributes: [XMLAttribute(name: "x", value: "1")], text: "t",
                    line: 1),
                XMLElement(name: "c", namespace: "urn:a", line: 1),
            ],
            text: "  ", line: 1)
        #expect(parsed == built)
        #expect(parsed.hashValue == built.hashValue)
        #expect(parsed.children.map(\.attributes) == [[XMLAttribute(name: "x", value: "1")], []])
        #expect(parsed != XMLElement(name: "r", namespace: "urn:a", line: 1))
        #expect(Set([parsed, built]).count == 1)
    }

    @Test func decodesPredefinedEntitiesInAttributesAndText() throws {
        let root = try parse(#"<a v="fish &amp; chips &lt;3 &#233;&#x41;">x &gt; y &amp; z</a>"#)
        #expect(root.attribute("v") == "fish & chips <3 éA")
        #expect(root.text == "x > y & z")
    }

    @Test func refusesADoctype() {
        #expect(throws: XMLParseError(.doctypeForbidden, line: 1)) {
            try parse(#"<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>"#)
        }
    }

    @Test func neverReadsAnExternalEntityFromDisk() {
        let xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <foo>&xxe;</foo>
            """
        do {
            let root = try parse(xxe)
            Issue.record("an external entity must be refused, got \(root.text.count) characters")
        } catch {
            #expect(error.reason == .doctypeForbidden)
            #expect(!error.description.contains("root:"))
        }
    }

    @Test func refusesAnEntityExpansionBomb() {
        var bomb = #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            bomb += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        bomb += "]><lolz>&lol9;</lolz>"
        #expect(throws: XMLParseError.self) { try parse(bomb) }
        do { _ = try parse(bomb) } catch { #expect(error.reason == .doctypeForbidden) }
    }

    @Test func refusesNestingDeeperThanTheCap() {
        let deep = String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)
        #expect(throws: XMLParseError.self) { try parse(deep, limits: XMLParseLimits(maxDepth: 32)) }
        do { _ = try parse(deep, limits: XMLParseLimits(maxDepth: 32)) } catch {
            #expect(error.reason == .tooDeep(limit: 32))
        }
        #expect(throws: Never.self) { try parse(deep, limits: XMLParseLimits(maxDepth: 40)) }
    }

    @Test func refusesADocumentOverTheSizeCap() {
        let big = "<a>" + String(repeating: "x", count: 2000) + "</a>"
        #expect(throws: XMLParseError(.tooLarge(limit: 1024))) {
            try parse(big, limits: XMLParseLimits(maxBytes: 1024))
        }
    }

    @Test func reportsTruncatedXMLWithItsLine() {
        do {
            _ = try parse("<a>\n<b>\n<c value=\"1\"/>\n")
            Issue.record("truncated XML must be refused")
        } catch {
            #expect(error.reason == .malformed)
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("malformed XML at line"))
        }
    }

    @Test func reportsInvalidUTF8() {
        var bytes = Array("<a>caf".utf8)
        bytes += [0xC3, 0x28]  // an invalid two-byte sequence
        bytes += Array("</a>".utf8)
        do {
            _ = try SafeXMLParser.parse(bytes)
            Issue.record("invalid UTF-8 must be refused")
        } catch {
            #expect(error.reason == .invalidEncoding)
        }
    }

    @Test func refusesAnEmptyBody() {
        #expect(throws: XMLParseError(.empty)) { try parse("  \n ") }
    }

    @Test func parsesConcurrently() async throws {
        let document = "<r>" + String(repeating: "<e a=\"1\">t</e>", count: 500) + "</r>"
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { try SafeXMLParser.parse(Array(document.utf8)).children.count }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 500, count: 8))
    }
}
