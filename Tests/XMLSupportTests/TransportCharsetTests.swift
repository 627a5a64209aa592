import Foundation
import Testing

@testable import XMLSupport

/// A provider that labels its answer `Content-Type: application/xml; charset=ISO-8859-1` and writes no XML
/// declaration (or one without `encoding`) means Latin-1. Before 2026-12-07 the charset was ignored and such an
/// answer was refused as "invalid UTF-8" at its first accented letter. A document that states its own encoding
/// is read as it says, whatever the header claims.
@Suite struct TransportCharsetTests {
    /// `<r>` of items with accented words in attributes and text, with the given prolog.
    static func document(prolog: String) -> String {
        let items = (0..<500).map { #"<i w="Zoë">Crème \#($0) — £5</i>"# }.joined()
        return prolog + "<r>\(items)</r>"
    }

    static func windows1252(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { scalar in
            switch scalar {
            case "—": 0x97
            case "€": 0x80
            default: UInt8(scalar.value)
            }
        }
    }

    static func expectRead(_ root: XMLElement, dash: String = "—") {
        #expect(root.children.count == 500)
        #expect(root.children.last?.attribute("w") == "Zoë")
        #expect(root.children.last?.text == "Crème 499 \(dash) £5")
    }

    @Test(arguments: ["", #"<?xml version="1.0"?>"#])
    func aDocumentStatingNoEncodingIsReadInTheCharset(prolog: String) throws {
        let bytes = Self.windows1252(Self.document(prolog: prolog))
        let scope = XMLReadScope()
        // Refused as UTF-8 without the charset, read with it, and again on the same (reused) parser.
        #expect(throws: XMLParseError.self) { try SafeXMLParser.parse(bytes, reading: scope) }
        for _ in 0..<2 {
            Self.expectRead(try SafeXMLParser.parse(bytes, reading: scope, charset: "windows-1252"))
        }
        // A charset parse leaves nothing behind: the next UTF-8 document on that parser reads as UTF-8.
        Self.expectRead(try SafeXMLParser.parse(Array(Self.document(prolog: prolog).utf8), reading: scope))
        #expect(scope.parsers.idleCount == 1)
    }

    @Test func libxml2sOwnTreeReadsInTheCharsetToo() throws {
        // The tree XPath falls back to for expressions beyond the fast subset parses the same bytes again.
        let bytes = Self.windows1252(Self.document(prolog: ""))
        let document = try XMLDocument(parsing: bytes, charset: "windows-1252")
        #expect(try document.string(XPathExpression("/r/i[last()]")) == "Crème 499 — £5")
        #expect(try document.string(XPathExpression("string(/r/i[1]/@w)")) == "Zoë")
        let xpath = try XPathDocument(parsing: bytes, charset: "windows-1252")
        #expect(try xpath.string(XPathExpression("concat(/r/i[last()], '!')")) == "Crème 499 — £5!")
        #expect(throws: XMLParseError(.unsupportedCharset, detail: "charset x-none")) {
            try XMLDocument(parsing: bytes, charset: "x-none")
        }
    }

    /// `providers check` validates a response against its schema in the charset too.
    @Test func schemaValidationReadsInTheCharset() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-xsd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let xsd = folder.appendingPathComponent("r.xsd").path
        try """
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="r"><xs:complexType><xs:sequence>
            <xs:element name="i" maxOccurs="unbounded"><xs:complexType><xs:simpleContent><xs:extension base="xs:string">
            <xs:attribute name="w" type="xs:string"/></xs:extension></xs:simpleContent></xs:complexType></xs:element>
            </xs:sequence></xs:complexType></xs:element></xs:schema>
            """.write(toFile: xsd, atomically: true, encoding: .utf8)
        let schema = try XMLSchema(path: xsd)
        let bytes = Self.windows1252(Self.document(prolog: ""))
        #expect(schema.validate(bytes, charset: "windows-1252") == [])
        #expect(schema.validate(bytes) == ["not well-formed XML"])
        #expect(schema.validate(bytes, charset: "x-none") == [XMLParseError(.unsupportedCharset).description])
    }

    @Test func latin1ReadsLikeWindows1252WhereTheyAgree() throws {
        let text = String(Self.document(prolog: "").map { $0 == "—" ? "-" : $0 })
        let root = try SafeXMLParser.parse(Self.windows1252(text), charset: "ISO-8859-1")
        Self.expectRead(root, dash: "-")
    }

    @Test func aDocumentDeclaringItsEncodingIsReadAsItSays() throws {
        // UTF-8 declared, Latin-1 claimed by the header (a server's default): the declaration wins.
        let utf8 = Array(Self.document(prolog: #"<?xml version="1.0" encoding="UTF-8"?>"#).utf8)
        Self.expectRead(try SafeXMLParser.parse(utf8, charset: "iso-8859-1"))
        // A byte order mark wins too.
        Self.expectRead(try SafeXMLParser.parse([0xEF, 0xBB, 0xBF] + Array(Self.document(prolog: "").utf8), charset: "latin1"))
        // Windows-1252 declared, UTF-8 claimed.
        let declared = Self.windows1252(Self.document(prolog: #"<?xml version='1.0' encoding='windows-1252'?>"#))
        Self.expectRead(try SafeXMLParser.parse(declared, charset: "utf-8"))
    }

    @Test func utf16WithoutAByteOrderMarkReadsInTheCharset() throws {
        let text = Self.document(prolog: "")
        let bigEndian = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        // Without a declaration, libxml2 cannot tell it from its first bytes (00 3C 00 72): only the charset says.
        Self.expectRead(try SafeXMLParser.parse(bigEndian, charset: "utf-16be"))
    }

    @Test func anUnknownOrMalformedCharsetIsRefusedWithoutQuotingIt() throws {
        let bytes = Self.windows1252(Self.document(prolog: ""))
        for charset in ["x-no-such-encoding", "bad charset\u{0}", String(repeating: "a", count: 41)] {
            let error = try #require(throws: XMLParseError.self) { try SafeXMLParser.parse(bytes, charset: charset) }
            #expect(error.reason == .unsupportedCharset, "\(charset): \(error)")
            #expect(error.description == "the Content-Type's charset is not an encoding this gateway can read")
        }
    }

    @Test func bytesInvalidInTheCharsetAreRefusedInItsTerms() throws {
        // 0x81 is not a character in windows-1252.
        let bytes = Array("<r>ok ".utf8) + [0x81] + Array("</r>".utf8)
        let error = try #require(throws: XMLParseError.self) { try SafeXMLParser.parse(bytes, charset: "windows-1252") }
        #expect(error.reason == .invalidForCharset, "\(error)")
        #expect(error.description.hasPrefix("bytes not valid in the Content-Type's charset"))
    }

    @Test func whatCountsAsADocumentStatingItsEncoding() {
        let cases: [(String, [UInt8], Bool)] = [
            ("declaration with encoding", Array(#"<?xml version="1.0" encoding="x"?><r/>"#.utf8), true),
            ("declaration without", Array(#"<?xml version="1.0"?><r encoding="x"/>"#.utf8), false),
            ("no declaration", Array("<r/>".utf8), false),
            ("processing instruction named xml-stylesheet", Array(#"<?xml-stylesheet encoding="x"?><r/>"#.utf8), false),
            ("UTF-8 byte order mark", [0xEF, 0xBB, 0xBF] + Array("<r/>".utf8), true),
            ("UTF-16 LE byte order mark", [0xFF, 0xFE, 0x3C, 0x00], true),
            ("UTF-16 LE declaration without a byte order mark", [0x3C, 0x00, 0x3F, 0x00], true),
            ("UTF-16 LE element without a byte order mark", [0x3C, 0x00, 0x72, 0x00], false),
        ]
        for (name, bytes, expected) in cases {
            #expect(TransportCharset.statesItsEncoding(bytes) == expected, "\(name)")
        }
    }
}
