import Testing

@testable import XMLSupport

/// An `XPathDocument` parsed with `XMLReadScope.reading(selecting:valuing:)`, the narrowest scope its expressions
/// allow, evaluates them exactly as libxml2 does on the whole document, from every element it kept; its
/// libxml2 fallback (mixed content) pairs its elements and attributes with libxml2's by source position and name.
@Suite struct XPathNarrowScopeTests {
    /// The subset documents, and one whose mixed content sits after elements a narrow scope leaves out, so that
    /// the fallback's pairing by position would go wrong without source positions.
    static let documents = XPathSubsetTests.documents + [
        """
        <r><skip><x>1</x><x/></skip><p>one <b>two</b> three</p><s/><p id="2" other="o">a<i>b<skip/></i>c</p>
        <q><skip/><p>plain</p></q></r>
        """
    ]
    static let expressions = XPathSubsetTests.expressions + [
        "../p", "p/@id", "concat(p, '|', ../p)", "q/p", "concat(q/p, '-', p/i)", "substring(p, 2, 5)",
    ]

    @Test(arguments: documents.indices)
    func eachExpressionReadsAsLibxml2FromEveryKeptElement(_ index: Int) throws {
        let bytes = Array(Self.documents[index].utf8)
        let libxml2 = try XMLDocument(parsing: bytes)
        let elements = try libxml2.nodes(matching: XPathExpression("//*"))
        var narrowed = 0
        for text in Self.expressions {
            let expression = try XPathExpression(text, namespaces: XPathSubsetTests.namespaces)
            let scope = XMLReadScope.reading(selecting: [], valuing: [expression])
            if !scope.keepsEverything { narrowed += 1 }
            let document = try XPathDocument(parsing: bytes, scope: scope)
            let tree = document.root.tree
            var contexts: [(XPathNode?, XMLNode?)] = [(nil, nil)]
            for position in 0..<Int32(tree.nodes.count) {
                let source = try #require(tree.sourcePosition(of: position))
                contexts.append((XPathNode(.tree(.element(position), tree)), elements[Int(source)]))
            }
            for (treeContext, libxml2Context) in contexts {
                let expected = try libxml2.string(expression, from: libxml2Context)
                #expect(
                    try document.string(expression, from: treeContext) == expected,
                    "\(text) from \(libxml2Context?.description ?? "document")")
            }
        }
        // Most expressions are in the subset and narrow the parse; the rest read the whole document.
        #expect(narrowed >= 40)
    }

    @Test func aNarrowScopeKeepsWhatThePathsNameAndTheSubtreesOfWhatTheyRead() throws {
        let scope = XMLReadScope.reading(
            selecting: [try XPathExpression("/a:R/a:Item", namespaces: ["a": "urn:a"])],
            valuing: [
                try XPathExpression("a:Code/@code", namespaces: ["a": "urn:a"]),
                try XPathExpression("concat(a:Note, substring('x', 1, boolean(a:Flag)))", namespaces: ["a": "urn:a"]),
            ])
        #expect(scope.elements == ["R", "Item", "Code", "Note", "Flag"])
        #expect(scope.attributes == ["code"])
        // A string value needs all the text inside; whether a path selects anything does not.
        #expect(scope.elementsWithSubtree == ["Note"])
        #expect(scope.sourcePositions)
    }

    @Test func expressionsNoNameCanNarrowReadTheWholeDocument() throws {
        for text in ["..", "//a:Item", "a:Item[1]", "count(a:Item)", "concat(a:Item/.., 'x')"] {
            let scope = XMLReadScope.reading(
                selecting: [], valuing: [try XPathExpression(text, namespaces: ["a": "urn:a"])])
            #expect(scope.keepsEverything, "\(text)")
        }
        // Selecting a parent is fine: only a string value taken of one needs what no name tells.
        let selecting = XMLReadScope.reading(
            selecting: [try XPathExpression("a:Item/..", namespaces: ["a": "urn:a"])], valuing: [])
        #expect(!selecting.keepsEverything)
    }

    /// The fallback from an attribute of a narrow tree: the attribute is found by name on libxml2's element,
    /// as the scope left out another attribute before it.
    @Test func theFallbackFindsAnAttributeContextByName() throws {
        let bytes = Array(#"<r><skip/><a other="1" id="k">x<b>y</b>z</a></r>"#.utf8)
        let scope = XMLReadScope(
            elements: ["a"], elementsWithSubtree: ["a"], attributes: ["id"], sourcePositions: true)
        let document = try XPathDocument(parsing: bytes, scope: scope)
        let ids = try document.nodes(matching: XPathExpression("/r/a/@id"))
        #expect(ids.count == 1)
        // `..` from the attribute is `a`, whose text is mixed with its child's: libxml2 answers.
        #expect(try document.string(XPathExpression(".."), from: ids.first) == "xyz")
        #expect(try document.string(XPathExpression("concat(.., '!')"), from: ids.first) == "xyz!")
    }
}
