import Testing

@testable import XMLSupport

/// `SafeXMLParser` keeps libxml2 parsers, with their dictionaries and name caches, from one parse to the next
/// (`ParserPool`). Whatever one document leaves behind must change nothing about the next one's tree.
@Suite struct ParserReuseTests {
    static let documents = [
        #"<Root xmlns="urn:one" xmlns:b="urn:two" id="r"><Item b:id="1"><Code code="x" display="First"/>text</Item><b:Item/></Root>"#,
        #"<Other><Item id="2">second &amp; more</Item><Code xmlns="urn:three" code="y"/><Root/></Other>"#,
        #"<b:Root xmlns:b="urn:one" b:id="again"><b:Item><b:Code code="z"/></b:Item></b:Root>"#,
    ]

    /// The same tree as a parse with a parser never used before (a new scope has an empty pool).
    func fresh(_ text: String, scope: XMLReadScope) throws -> XMLElement {
        try SafeXMLParser.parse(Array(text.utf8), reading: XMLReadScope(
            skippedNamespaces: scope.skippedNamespaces, elements: scope.elements,
            elementsWithAnyChild: scope.elementsWithAnyChild, attributes: scope.attributes, text: scope.text))
    }

    @Test(arguments: [
        XMLReadScope(),
        XMLReadScope(elements: ["Root", "Item", "Other"], attributes: ["id"], text: false),
        XMLReadScope(skippedNamespaces: ["urn:two"], comparedNames: ["Code"]),
    ])
    func aReusedParserBuildsWhatANewOneBuilds(scope: XMLReadScope) throws {
        // Every order of the documents, twice over, on one scope's parsers: names met in an earlier document
        // come from the cache and must still land in this document's tree.
        for _ in 0..<2 {
            for text in Self.documents + Self.documents.reversed() {
                #expect(try SafeXMLParser.parse(Array(text.utf8), reading: scope) == fresh(text, scope: scope))
            }
        }
        #expect(scope.parsers.idleCount == 1)
    }

    @Test func aParseAfterARefusedDocumentIsUnaffected() throws {
        let scope = XMLReadScope()
        let good = Self.documents[0]
        let refused = [
            "<Root><Item>", "<!DOCTYPE r [<!ENTITY x 'y'>]><r>&x;</r>", "<a>\u{1}</a>",
            String(repeating: "<a>", count: 200) + String(repeating: "</a>", count: 200), "<a></b>",
        ]
        for bad in refused {
            #expect(throws: XMLParseError.self) { try SafeXMLParser.parse(Array(bad.utf8), reading: scope) }
            #expect(try SafeXMLParser.parse(Array(good.utf8), reading: scope) == fresh(good, scope: scope))
        }
    }

    @Test func aParserWhoseDictionaryGrewTooLargeIsRetired() throws {
        let scope = XMLReadScope()
        _ = try SafeXMLParser.parse(Array(Self.documents[0].utf8), reading: scope)
        #expect(scope.parsers.idleCount == 1)
        // A peer that sends a new name with every element would otherwise grow the dictionary without end.
        let names = (0...ReusableParser.dictionaryLimit).map { "<n\($0)/>" }.joined()
        let many = try SafeXMLParser.parse(Array("<r>\(names)</r>".utf8), reading: scope)
        #expect(many.children.count == ReusableParser.dictionaryLimit + 1)
        #expect(scope.parsers.idleCount == 0)
        #expect(try SafeXMLParser.parse(Array(Self.documents[1].utf8), reading: scope) == fresh(Self.documents[1], scope: scope))
        #expect(scope.parsers.idleCount == 1)
    }

    @Test func concurrentParsesEachGetAParserOfTheirOwn() async throws {
        let scope = XMLReadScope(comparedNames: ["Item"])
        let expected = try Self.documents.map { try fresh($0, scope: scope) }
        let matches = try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var same = true
                    for round in 0..<300 {
                        let index = (task + round) % Self.documents.count
                        same = try same && SafeXMLParser.parse(Array(Self.documents[index].utf8), reading: scope) == expected[index]
                    }
                    return same
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(matches == Array(repeating: true, count: 8))
        #expect((1...8).contains(scope.parsers.idleCount))
    }

    /// A burst of parses leaves at most `maxIdle` parsers behind (each holds a libxml2 context and dictionary),
    /// and those still parse as new ones do.
    @Test func aBurstLeavesAtMostMaxIdleParsersWaiting() throws {
        let scope = XMLReadScope(comparedNames: ["Item"])
        let burst = try (0..<(ParserPool.maxIdle + 5)).map { _ in try scope.parsers.checkOut() }
        #expect(scope.parsers.idleCount == 0)
        for parser in burst { scope.parsers.checkIn(parser) }
        #expect(scope.parsers.idleCount == ParserPool.maxIdle)
        for text in Self.documents {
            #expect(try SafeXMLParser.parse(Array(text.utf8), reading: scope) == fresh(text, scope: scope))
        }
        #expect(scope.parsers.idleCount == ParserPool.maxIdle)
    }
}
