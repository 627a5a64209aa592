import Testing

@testable import XMLSupport

/// `XPathDocument` evaluates the subset of XPath in `XPathSubset` on the flat tree; these compare every
/// result with libxml2's XPath on the same bytes, from every element (and every attribute) as context.
@Suite struct XPathSubsetTests {
    static let namespaces = ["a": "urn:a", "b": "urn:b", "d": "urn:default"]

    static let documents: [String] = [
        // Namespaces (default and prefixed), repeated names, attributes with and without a namespace.
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <Root xmlns="urn:default" xmlns:a="urn:a" xmlns:b="urn:b" id="r">
          <Item id="1" a:id="a1"><Code code="x1" display="First"/><Value>12</Value><Unit>mg</Unit></Item>
          <Item id="2"><Code code="x2"/><Value> 7 </Value><Value>8</Value><a:Value>ns</a:Value></Item>
          <Item><Value/><Comment>fish &amp; chips &#233;t&#xE9; <![CDATA[<raw>]]></Comment></Item>
          <a:Item id="a"><a:Value>in a</a:Value></a:Item>
          <Group><Item id="deep"><Value>deep</Value></Item></Group>
        </Root>
        """,
        // Mixed content and indentation around elements with text: string values need document order.
        """
        <r><p>one <b>two</b> three<i>four<b>five</b></i></p><p>  <q>only</q>  </p><p><e/></p>
        <p attr="v &amp; w &#38; &lt;"><q>a</q><q>b</q></p><p>text</p></r>
        """,
        // No namespaces; non-ASCII text; an empty root.
        "<Doc><Name>Zoë “quoted” — ✓</Name><Name>second</Name><Empty></Empty></Doc>",
        "<Only/>",
    ]

    static let expressions: [String] = [
        "d:Item", "d:Item/d:Value", "d:Item/@id", "@id", "@a:id", "@missing", "d:Value", "d:Code/@code",
        "d:Code/@display", "a:Value", "d:Missing", "d:Missing/@id", "..", "../..", "../../..", "../d:Item/@id",
        "d:Item/..", "d:Item/../d:Item/d:Value", "/d:Root", "/d:Root/d:Item", "/d:Root/d:Item/d:Value",
        "/d:Root/a:Item/a:Value", "/d:Root/d:Group/d:Item/@id", "/Doc/Name", "/r/p", "/r/p/q", "/r/p/@attr",
        "/Only", "/Nope", "p", "p/q", "p/b", "q", "Name", "Empty", "@attr", "../Name", "..//Name",
        "concat('a', 'b')", "concat(d:Code/@display, ' — ', d:Value)", "concat(\"x\", d:Missing, '')",
        "concat(d:Value, d:Unit, d:Comment, @id)", "concat(../@id, '/', @id)", "concat('Doc: ', /Doc/Name)",
        "concat(p, '|', q)", "'literal'", "\"double\"", "''",
        "substring(d:Value, 2)", "substring('hello', 2, 3)", "substring('Zoë✓', 3, 1)", "substring(Name, 0)",
        "substring(Name, 1, 200 * boolean(Empty))", "substring(concat(' — ', d:Code/@display), 1, 200 * boolean(d:Code))",
        "substring('abc', 2 * 1, 0)", "substring('abcdef', 0, 3)", "substring('abcdef', 5, 100)",
        "substring('abcdef', 7)", "concat(d:Code/@display, substring(concat(' — ', d:Unit), 1, 200 * boolean(d:Unit)))",
        // Outside the subset: left to libxml2, which must give the same through `XPathDocument`.
        "d:Item[2]/d:Value", "//d:Value", "count(d:Item)", "normalize-space(d:Value)", "d:Item/*", "./d:Value",
        "string(d:Value)", "text()", "d:Value/text()", "substring(d:Value, 1.5)", "concat(d:Value, 1)",
        "d:Value | d:Unit", "self::node()",
    ]

    static let subsetExpressions: Set<String> = [
        "d:Item/d:Value", "@a:id", "../..", "/d:Root/d:Item", "concat(d:Value, d:Unit, d:Comment, @id)",
        "substring(concat(' — ', d:Code/@display), 1, 200 * boolean(d:Code))", "'literal'",
    ]

    @Test func subsetParsesWhatMappingFilesUseAndNothingElse() throws {
        for text in Self.expressions {
            let expression = try XPathExpression(text, namespaces: Self.namespaces)
            if Self.subsetExpressions.contains(text) { #expect(expression.subset != nil, "\(text)") }
        }
        for outside in ["d:Item[2]/d:Value", "//d:Value", "count(d:Item)", "d:Item/*", "./d:Value", "text()",
            "substring(d:Value, 1.5)", "concat(d:Value, 1)", "d:Value | d:Unit", "self::node()"]
        {
            #expect(try XPathExpression(outside, namespaces: Self.namespaces).subset == nil, "\(outside)")
        }
    }

    /// Also with the tree given the expressions' names (`XMLReadScope.everything(comparing:)`), as the mapped
    /// decoder parses: the results must not change.
    @Test(arguments: documents.indices, [false, true])
    func stringsMatchLibxml2FromEveryContext(_ index: Int, comparingNames: Bool) throws {
        let bytes = Array(Self.documents[index].utf8)
        let libxml2 = try XMLDocument(parsing: bytes)
        let scope =
            comparingNames
            ? XMLReadScope.everything(
                comparing: try Self.expressions.map { try XPathExpression($0, namespaces: Self.namespaces) })
            : .everything
        if comparingNames { #expect(scope.comparedNames.contains("Item") && scope.comparedNamespaces == ["urn:a", "urn:default"]) }
        let tree = try XPathDocument(parsing: bytes, scope: scope)
        let elements = try libxml2.nodes(matching: XPathExpression("//*"))
        #expect(elements.count == tree.root.tree.nodes.count)

        // Contexts: the document, every element, every attribute, as both documents see them.
        var contexts: [(XPathNode?, XMLNode?)] = [(nil, nil)]
        for (position, element) in elements.enumerated() {
            contexts.append((XPathNode(.tree(.element(Int32(position)), tree.root.tree)), element))
            let attributes = try libxml2.nodes(matching: XPathExpression("@*"), from: element)
            let range = tree.root.tree.nodes[position].attributes
            #expect(attributes.count == range.count)
            for (attribute, treeIndex) in zip(attributes, range) {
                contexts.append(
                    (XPathNode(.tree(.attribute(element: Int32(position), index: treeIndex), tree.root.tree)), attribute))
            }
        }
        for text in Self.expressions {
            let expression = try XPathExpression(text, namespaces: Self.namespaces)
            for (treeContext, libxml2Context) in contexts {
                let expected = try libxml2.string(expression, from: libxml2Context)
                let actual = try tree.string(expression, from: treeContext)
                #expect(actual == expected, "\(text) from \(libxml2Context?.description ?? "document")")
            }
        }
    }

    /// Every expression read together as one field set (with a field that has none) gives, from every context,
    /// what each gives alone and what libxml2 gives: paths shared between fields, concatenations made from the
    /// tree's bytes, and the expressions read alone (substring, outside the subset) all land in their places.
    ///
    /// Compiled for the scope the document is parsed with, paths match names by the scope's numbers; not, by
    /// comparing Strings. Both must read the same.
    @Test(arguments: documents.indices, [false, true])
    func fieldSetsReadWhatEachExpressionReadsAlone(_ index: Int, compiled: Bool) throws {
        let bytes = Array(Self.documents[index].utf8)
        let libxml2 = try XMLDocument(parsing: bytes)
        let expressions = try Self.expressions.map { try XPathExpression($0, namespaces: Self.namespaces) }
        let scope = XMLReadScope.everything(comparing: expressions)
        let fields = XPathFieldSet([nil] + expressions + [expressions[0]], scope: compiled ? scope : nil)
        #expect(fields.count == expressions.count + 2)
        #expect((fields.storage.scope != nil) == compiled)
        let tree = try XPathDocument(parsing: bytes, scope: scope)
        let elements = try libxml2.nodes(matching: XPathExpression("//*"))
        var contexts: [(XPathNode?, XMLNode?)] = [(nil, nil)]
        for (position, element) in elements.enumerated() {
            contexts.append((XPathNode(.tree(.element(Int32(position)), tree.root.tree)), element))
        }
        // Nodes libxml2 selected (an expression outside the subset) as contexts too.
        contexts += try tree.nodes(matching: XPathExpression("//*")).map { ($0, nil) }
        for (treeContext, libxml2Context) in contexts {
            var values: [String?] = []
            try tree.strings(fields, from: treeContext, into: &values)
            #expect(values.count == fields.count)
            #expect(values.first == .some(nil))
            for (offset, expression) in expressions.enumerated() {
                let alone = try tree.string(expression, from: treeContext)
                #expect(values[offset + 1] == alone, "\(expression.text)")
                if treeContext == nil || libxml2Context != nil {
                    #expect(values[offset + 1] == (try libxml2.string(expression, from: libxml2Context)), "\(expression.text)")
                }
            }
            #expect(values.last == values[1])
        }
    }

    /// A node selector compiled for the document's scope selects exactly what `nodes(matching:)` selects, from
    /// every element; one compiled for another scope falls back to it.
    @Test(arguments: documents.indices)
    func nodeSelectorsSelectWhatTheExpressionSelects(_ index: Int) throws {
        let bytes = Array(Self.documents[index].utf8)
        let expressions = try Self.expressions.map { try XPathExpression($0, namespaces: Self.namespaces) }
        let scope = XMLReadScope.everything(comparing: expressions)
        let tree = try XPathDocument(parsing: bytes, scope: scope)
        func positions(_ nodes: [XPathNode]) -> [TreeNode?] {
            nodes.map { node in
                guard case .tree(let treeNode, _) = node.storage else { return nil }
                return treeNode
            }
        }
        var contexts: [XPathNode?] = [nil]
        for position in 0..<tree.root.tree.nodes.count { contexts.append(XPathNode(.tree(.element(Int32(position)), tree.root.tree))) }
        var compiled = 0
        for expression in expressions where expression.selectsNodes {
            let selector = XPathNodeSelector(expression, scope: scope)
            let other = XPathNodeSelector(expression, scope: .everything)
            if selector.steps != nil { compiled += 1 }
            for context in contexts {
                let expected = positions(try tree.nodes(matching: expression, from: context))
                #expect(positions(try tree.nodes(selectedBy: selector, from: context)) == expected, "\(expression.text)")
                #expect(positions(try tree.nodes(selectedBy: other, from: context)) == expected, "\(expression.text)")
            }
        }
        #expect(compiled >= 20)
    }

    /// A field set or selector compiled for one scope, on a tree parsed with another (even an equal one, whose
    /// table may number names differently), does not match by number: it reads by name, with the same results.
    @Test func compiledReadersOnATreeOfAnotherScopeReadByName() throws {
        let expressions = try ["d:Item/d:Value", "d:Code/@code", "concat(d:Value, d:Unit)", "/d:Root/d:Item"].map {
            try XPathExpression($0, namespaces: Self.namespaces)
        }
        let compiledFor = XMLReadScope.everything(comparing: expressions)
        let parsedWith = XMLReadScope.everything(comparing: expressions)
        #expect(compiledFor == parsedWith && !compiledFor.isSame(as: parsedWith) && compiledFor.isSame(as: compiledFor))
        let fields = XPathFieldSet(expressions, scope: compiledFor)
        let selector = XPathNodeSelector(expressions[3], scope: compiledFor)
        #expect(fields.storage.scope != nil && selector.steps != nil)
        let tree = try XPathDocument(parsing: Array(Self.documents[0].utf8), scope: parsedWith)
        let items = try tree.nodes(selectedBy: selector)
        #expect(items.count == (try tree.nodes(matching: expressions[3])).count && items.count == 3)
        var values: [String?] = []
        for item in items {
            try tree.strings(fields, from: item, into: &values)
            #expect(values == (try expressions.map { try tree.string($0, from: item) }))
        }
    }

    @Test func aFieldSetRefusesANodeOfAnotherDocument() throws {
        let one = try XPathDocument(parsing: Array("<a><b>1</b></a>".utf8))
        let other = try XPathDocument(parsing: Array("<a><b>2</b></a>".utf8))
        let node = try #require(try other.nodes(matching: XPathExpression("/a/b")).first)
        var values: [String?] = []
        #expect(throws: XPathError.self) {
            try one.strings(XPathFieldSet([try XPathExpression("b")]), from: node, into: &values)
        }
    }

    @Test(arguments: documents.indices)
    func nodeSetsMatchLibxml2(_ index: Int) throws {
        let bytes = Array(Self.documents[index].utf8)
        let libxml2 = try XMLDocument(parsing: bytes)
        let tree = try XPathDocument(parsing: bytes)
        let elements = try libxml2.nodes(matching: XPathExpression("//*"))
        let value = try XPathExpression(".")
        for text in Self.expressions {
            let expression = try XPathExpression(text, namespaces: Self.namespaces)
            guard expression.selectsNodes else { continue }
            var contexts: [(XPathNode?, XMLNode?)] = [(nil, nil)]
            for (position, element) in elements.enumerated() {
                contexts.append((XPathNode(.tree(.element(Int32(position)), tree.root.tree)), element))
            }
            for (treeContext, libxml2Context) in contexts {
                let expected = try libxml2.nodes(matching: expression, from: libxml2Context)
                let actual = try tree.nodes(matching: expression, from: treeContext)
                // Same nodes in the same order: compared by string value and kind, from each node.
                #expect(actual.count == expected.count, "\(text)")
                for (found, wanted) in zip(actual, expected) {
                    #expect(try tree.string(value, from: found) == libxml2.string(value, from: wanted), "\(text)")
                }
            }
        }
    }

    /// A name the expressions use is one String however many expressions use it, and a parse comparing them
    /// puts that very String in the tree, so comparing the two needs no byte comparison.
    @Test func theTreeHoldsTheExpressionsOwnStringsForTheirNames() throws {
        // Longer than 15 bytes, so each String has storage of its own (shorter ones are stored inline).
        let uri = "urn:caregate:example:a-namespace-long-enough"
        let first = try XPathExpression("x:r/x:AnElementNameLongerThanFifteen/@code", namespaces: ["x": uri])
        let second = try XPathExpression("concat(x:AnElementNameLongerThanFifteen, '!')", namespaces: ["y": "urn:y", "x": uri])
        func storage(_ string: String) -> UnsafeRawPointer? {
            var copy = string
            return copy.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        let names = [first, second].map { $0.comparedNames }
        #expect(names[0].names == ["r", "AnElementNameLongerThanFifteen", "code"])
        #expect(names[0].namespaces == [uri] && names[1].namespaces == [uri])
        let fromFirst = try #require(names[0].names.first { $0.hasPrefix("AnElement") })
        let fromSecond = try #require(names[1].names.first { $0.hasPrefix("AnElement") })
        #expect(storage(fromFirst) == storage(fromSecond))

        let document = try XPathDocument(
            parsing: Array("<r xmlns=\"\(uri)\"><AnElementNameLongerThanFifteen code=\"c\"/></r>".utf8),
            scope: .everything(comparing: [first, second]))
        let tree = document.root.tree
        let name = try #require(tree.strings.first { $0.hasPrefix("AnElement") })
        let namespace = try #require(tree.strings.first { $0 == uri })
        #expect(storage(name) == storage(fromFirst))
        #expect(storage(namespace) == storage(try #require(names[0].namespaces.first)))
        #expect(try document.string(first, from: nil) == "c")
    }

    @Test func aNodeOfAnotherDocumentIsRefused() throws {
        let first = try XPathDocument(parsing: Array("<a><b/></a>".utf8))
        let second = try XPathDocument(parsing: Array("<a><b/></a>".utf8))
        let node = try #require(try first.nodes(matching: XPathExpression("/a/b")).first)
        #expect(throws: XPathError.self) { try second.string(XPathExpression("b"), from: node) }
    }

    @Test func substringRoundsAsLibxml2() {
        #expect(XPathSubset.substring("12345", start: 1.5, length: 2.6) == "234")
        #expect(XPathSubset.substring("12345", start: 0, length: 3) == "12")
        #expect(XPathSubset.substring("12345", start: -.infinity, length: .infinity) == "")
        #expect(XPathSubset.substring("12345", start: .nan, length: 3) == "")
        #expect(XPathSubset.substring("12345", start: 2, length: nil) == "2345")
        #expect(XPathSubset.substring("12345", start: 1e20, length: nil) == "")
    }
}
