import Testing

@testable import XMLSupport

/// `SafeXMLParser` hands a response to libxml2 on parsers kept between documents. Whatever the document's
/// declared encoding, and at any size up to the parse limit, every element must be read once, to the end, and a
/// parser used before must read it as a new one does. Both failed before 2026-12-07: a UTF-16 document was refused
/// as "empty document" (its byte order mark reached libxml2 after the reset, where the encoding is told), and one
/// over libxml2's 10 MB lookup limit as "malformed XML" although the limit allowed 16 MB.
@Suite struct ParserInputTests {
    static let items = 2_000

    /// `<r>` holding `items` elements with a non-ASCII word in an attribute and in the text: well past libxml2's
    /// first-line conversion of a declared encoding and its input chunks.
    static func document(declaring encoding: String) -> String {
        let items = (0..<Self.items).map { #"<i n="\#($0)" w="résumé">café \#($0)</i>"# }.joined()
        return #"<?xml version="1.0" encoding="\#(encoding)"?><r>\#(items)</r>"#
    }

    static func expectEveryItem(in root: XMLElement) {
        #expect(root.name == "r")
        #expect(root.children.count == items)
        let last = root.children.last
        #expect(last?.attribute("n") == "\(items - 1)")
        #expect(last?.attribute("w") == "résumé")
        #expect(last?.text == "café \(items - 1)")
        #expect(root.children.first?.text == "café 0")
    }

    static func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
        let units = [UInt16(0xFEFF)] + Array(text.utf16)
        return units.flatMap { unit in
            bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
    }

    static func latin1(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { UInt8($0.value) }
    }

    @Test(arguments: ["ISO-8859-1", "UTF-16LE", "UTF-16BE", "UTF-8", "UTF-8 with a byte order mark"])
    func readsADocumentInItsDeclaredEncodingToTheEnd(encoding: String) throws {
        let declared = encoding.hasPrefix("UTF-16") ? "UTF-16" : encoding.hasPrefix("UTF-8") ? "UTF-8" : encoding
        let text = Self.document(declaring: declared)
        let bytes: [UInt8] =
            switch encoding {
            case "ISO-8859-1": Self.latin1(text)
            case "UTF-16LE": Self.utf16(text, bigEndian: false)
            case "UTF-16BE": Self.utf16(text, bigEndian: true)
            case "UTF-8": Array(text.utf8)
            default: [0xEF, 0xBB, 0xBF] + Array(text.utf8)
            }
        // One scope, so that the second and third parses run on the parser the first one used.
        let scope = XMLReadScope()
        for _ in 0..<3 {
            Self.expectEveryItem(in: try SafeXMLParser.parse(bytes, reading: scope))
        }
        #expect(scope.parsers.idleCount == 1)
    }

    @Test func readsADocumentOverLibxml2sLookupLimitOnceToItsEnd() throws {
        // About 12 MB in 48,000 elements, with text runs longer than libxml2's input chunks: an element read twice
        // or not at all changes the count.
        let count = 48_000
        let words = String(repeating: "lorem ipsum ", count: 20)
        let body = (0..<count).map { #"<e n="\#($0)">\#(words)\#($0)</e>"# }.joined()
        let bytes = Array("<big>\(body)</big>".utf8)
        #expect(bytes.count > 10_000_000 && bytes.count < XMLParseLimits().maxBytes)
        let scope = XMLReadScope()
        for _ in 0..<2 {
            let root = try SafeXMLParser.parse(bytes, reading: scope)
            #expect(root.children.count == count)
            #expect(root.children.last?.attribute("n") == "\(count - 1)")
            #expect(root.children.last?.text == "\(words)\(count - 1)")
        }
        #expect(scope.parsers.idleCount == 1)
    }

    @Test func aDocumentCutShortIsRefusedOnAReusedParserToo() throws {
        let scope = XMLReadScope()
        let whole = Array(Self.document(declaring: "UTF-8").utf8)
        _ = try SafeXMLParser.parse(whole, reading: scope)
        // Cut inside the last element: everything before it was well-formed.
        let cut = Array(whole.dropLast(12))
        #expect(throws: XMLParseError.self) { try SafeXMLParser.parse(cut, reading: scope) }
        Self.expectEveryItem(in: try SafeXMLParser.parse(whole, reading: scope))
    }
}
