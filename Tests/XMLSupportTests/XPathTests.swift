import Testing
import XMLSupport

@Suite struct XPathTests {
    static let namespaces = ["a": "urn:caregate:example:ambulance-epcr:1", "x": "urn:x"]

    static let sample = """
        <?xml version="1.0" encoding="UTF-8"?>
        <EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1" xmlns:x="urn:x" version="2">
          <Incident id="inc-1">
            <Type code="1234" display="Chest pain"/>
            <Outcome>  Conveyed   to
              ED  </Outcome>
            <x:Note x:lang="en">fish &amp; chips <![CDATA[<raw>]]></x:Note>
          </Incident>
          <Incident id="inc-2">
            <Type code="5678" display="Fall"/>
            <Outcome>   </Outcome>
          </Incident>
          <Plain>no namespace <b>here</b></Plain>
        </EPCRExport>
        """

    func document(_ text: String = sample) throws -> XMLDocument {
        try XMLDocument(parsing: Array(text.utf8))
    }

    func xpath(_ text: String) throws -> XPathExpression {
        try XPathExpression(text, namespaces: Self.namespaces)
    }

    @Test func selectsNamespacedElementsInDocumentOrder() throws {
        let document = try document()
        let incidents = try document.nodes(matching: xpath("/a:EPCRExport/a:Incident"))
        #expect(incidents.count == 2)
        #expect(incidents.map(\.localName) == ["Incident", "Incident"])
        #expect(incidents.allSatisfy { $0.namespace == "urn:caregate:example:ambulance-epcr:1" && $0.kind == .element })
        #expect(incidents.map(\.line) == [3, 9])
        #expect(try document.nodes(matching: xpath("//a:Type/@code")).map(\.stringValue) == ["1234", "5678"])
        #expect(document.root.localName == "EPCRExport")
    }

    @Test func unprefixedNamesMatchOnlyElementsInNoNamespace() throws {
        let document = try document()
        #expect(try document.nodes(matching: xpath("/EPCRExport")).isEmpty)
        #expect(try document.string(xpath("//a:Plain/b"), from: nil) == nil)
        let noNamespace = try XMLDocument(parsing: Array("<r><b>here</b></r>".utf8))
        #expect(try noNamespace.string(XPathExpression("/r/b")) == "here")
    }

    @Test func readsAttributesIncludingNamespacedOnesAndDecodedEntities() throws {
        let document = try document()
        let incident = try #require(try document.nodes(matching: xpath("//a:Incident")).first)
        #expect(try document.string(xpath("@id"), from: incident) == "inc-1")
        #expect(try document.string(xpath("a:Type/@display"), from: incident) == "Chest pain")
        #expect(try document.string(xpath("x:Note/@x:lang"), from: incident) == "en")
        #expect(try document.string(xpath("x:Note"), from: incident) == "fish & chips <raw>")
        let attribute = try #require(try document.nodes(matching: xpath("x:Note/@x:lang"), from: incident).first)
        #expect(attribute.kind == .attribute)
        #expect(attribute.namespace == "urn:x")
        #expect(attribute.line == 7)
        #expect(try document.string(xpath("/a:EPCRExport/@version")) == "2")
    }

    @Test func evaluatesRelativePathsFromEachNode() throws {
        let document = try document()
        let ids = try document.nodes(matching: xpath("//a:Incident")).map { incident in
            try document.string(xpath("concat(@id, ':', a:Type/@code)"), from: incident)
        }
        #expect(ids == ["inc-1:1234", "inc-2:5678"])
        let type = try #require(try document.nodes(matching: xpath("//a:Type")).last)
        #expect(try document.string(xpath("../@id"), from: type) == "inc-2")
        #expect(try document.string(xpath("count(ancestor::*)"), from: type) == "2")
    }

    @Test func concatAndNormalizeSpace() throws {
        let document = try document()
        let first = try #require(try document.nodes(matching: xpath("//a:Incident")).first)
        #expect(
            try document.string(xpath("concat(a:Type/@display, ' — ', normalize-space(a:Outcome))"), from: first)
                == "Chest pain — Conveyed to ED")
        #expect(try document.string(xpath("normalize-space(a:Outcome)"), from: first) == "Conveyed to ED")
        // The string value is trimmed at both ends but not normalised inside.
        #expect(try document.string(xpath("a:Outcome"), from: first) == "Conveyed   to\n      ED")
        #expect(try document.string(xpath("count(//a:Incident) + 1")) == "3")
        #expect(try document.string(xpath("//a:Incident[2]/@id = 'inc-2'")) == "true")
    }

    @Test func emptyOrWhitespaceOnlyValuesAreNil() throws {
        let document = try document()
        let second = try #require(try document.nodes(matching: xpath("//a:Incident")).last)
        #expect(try document.string(xpath("a:Outcome"), from: second) == nil)
        #expect(try document.string(xpath("a:Missing"), from: second) == nil)
        #expect(try document.string(xpath("@missing"), from: second) == nil)
        #expect(try document.string(xpath("concat(' ', '  ')"), from: second) == nil)
        #expect(try document.nodes(matching: xpath("a:Missing"), from: second).isEmpty)
    }

    @Test func knowsWhetherAnExpressionSelectsNodes() throws {
        #expect(try xpath("//a:Incident").selectsNodes)
        #expect(try xpath("(//a:Incident | //a:Plain)[1]").selectsNodes)
        #expect(try !xpath("count(//a:Incident)").selectsNodes)
        #expect(try !xpath("concat(@a, @b)").selectsNodes)
        let document = try document()
        #expect(throws: XPathError(expression: "count(//a:Incident)", reason: .notANodeSet)) {
            try document.nodes(matching: try xpath("count(//a:Incident)"))
        }
    }

    @Test func refusesANodeFromAnotherDocument() throws {
        let one = try document()
        let other = try document()
        #expect(throws: XPathError(expression: "@id", reason: .foreignNode)) {
            try one.string(try xpath("@id"), from: other.root)
        }
    }

    @Test func nodesOutliveTheirDocumentReference() throws {
        var nodes: [XMLNode] = []
        do {
            let document = try document()
            nodes = try document.nodes(matching: xpath("//a:Incident"))
        }
        // The document is kept alive by its nodes.
        #expect(try nodes[1].document.string(xpath("@id"), from: nodes[1]) == "inc-2")
    }

    @Test func namespaceNodesAreLeftOut() throws {
        let document = try document()
        #expect(try document.nodes(matching: xpath("/a:EPCRExport/namespace::*")).isEmpty)
        #expect(try document.string(xpath("count(/a:EPCRExport/namespace::*)")) == "3")
    }

    @Test func stopsARunawayEvaluation() throws {
        var text = "<r>"
        for index in 0..<3000 { text += "<e i=\"\(index)\"/>" }
        text += "</r>"
        let document = try XMLDocument(parsing: Array(text.utf8))
        let runaway = try XPathExpression("count(//*[count(//*[count(//*) > 0]) > 0])")
        do {
            _ = try document.string(runaway)
            Issue.record("expected the evaluation to be stopped")
        } catch {
            #expect(error.reason == .evaluation("operation limit exceeded"))
            #expect(!error.isCompileError)
        }
        // The document and the expression stay usable afterwards.
        #expect(try document.string(XPathExpression("count(/r/e)")) == "3000")
    }

    // MARK: - Compile errors

    @Test(arguments: [
        ("/a:Incident[", "XPath does not compile: "),
        ("concat(@a, 'b", "unfinished literal"),
        ("a:Type/@", "XPath does not compile: "),
        ("b:Type", "undeclared namespace prefix 'b'"),
        ("//a:Incident[b:Flag]", "undeclared namespace prefix 'b'"),
        ("concat2(@a, @b)", "unknown function 'concat2'"),
        ("a:upper-case(@a)", "unknown function 'a:upper-case'"),
        ("document('file:///etc/passwd')", "unknown function 'document'"),
        ("concat(@a)", "concat() takes 2 or more arguments, given 1"),
        ("substring(@a)", "substring() takes 2 to 3 arguments, given 1"),
        ("normalize-space(@a, @b)", "normalize-space() takes 0 to 1 arguments, given 2"),
        ("$patient", "variables ($name) are not supported"),
        ("count('x')", "wrong type"),
        ("   ", "expression must have 1–2048 characters"),
    ])
    func aCompileErrorNamesTheExpressionAndTheProblem(_ text: String, _ expected: String) {
        do {
            let expression = try XPathExpression(text, namespaces: Self.namespaces)
            Issue.record("expected '\(expression)' to be refused")
        } catch {
            #expect(error.isCompileError)
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(error.description.hasPrefix("XPath does not compile: "))
            #expect(error.description.hasSuffix("in '\(text)'"), "\(error.description)")
        }
    }

    @Test(arguments: [
        "//a:Incident[@id and not(a:Type)]", "5 div (3 mod 2)", "a:Type/@code * 2", "//a:Incident[last()]",
        "child::a:Incident/attribute::id", "//a:*[local-name() = 'Type']", "processing-instruction('x')",
        "substring-before(@id, '-')", "//a:Incident[position() = 1]/a:Type/@display | //x:Note", "@xml:lang",
        "concat ( @a , 'and' , \"or\" )", ".//text()", "../..",
    ])
    func acceptsOrdinaryXPath(_ text: String) throws {
        let expression = try XPathExpression(text, namespaces: Self.namespaces)
        #expect(expression.text == text)
        _ = try document().string(expression)
    }

    @Test func refusesAnUnusableNamespaceDeclaration() {
        #expect(throws: XPathError(expression: "//x", reason: .invalidNamespace(prefix: "1x"))) {
            try XPathExpression("//x", namespaces: ["1x": "urn:x"])
        }
        #expect(throws: XPathError(expression: "//x", reason: .invalidNamespace(prefix: "x"))) {
            try XPathExpression("//x", namespaces: ["x": ""])
        }
    }

    // MARK: - Concurrency

    /// One compiled expression, many documents, many tasks at once.
    @Test func oneExpressionServesManyDocumentsConcurrently() async throws {
        let ids = try xpath("/a:EPCRExport/a:Incident/@id")
        let count = try xpath("count(//a:Incident)")
        let results = try await withThrowingTaskGroup(of: (Int, [String], String?).self) { group in
            for index in 0..<64 {
                group.addTask {
                    var text = #"<EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1">"#
                    for incident in 0...(index % 7) { text += #"<Incident id="d\#(index)-\#(incident)"/>"# }
                    text += "</EPCRExport>"
                    let document = try XMLDocument(parsing: Array(text.utf8))
                    var found: [String] = []
                    for _ in 0..<20 { found = try document.nodes(matching: ids).map(\.stringValue) }
                    return (index, found, try document.string(count))
                }
            }
            var results: [(Int, [String], String?)] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(results.count == 64)
        for (index, found, total) in results {
            #expect(found == (0...(index % 7)).map { "d\(index)-\($0)" })
            #expect(total == String(index % 7 + 1))
        }
    }

    /// One document read by many tasks at once.
    @Test func oneDocumentServesManyTasksConcurrently() async throws {
        let document = try document()
        let expression = try xpath("concat(@id, '/', a:Type/@display)")
        let incidents = try document.nodes(matching: xpath("//a:Incident"))
        let summaries = try await withThrowingTaskGroup(of: [String?].self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try (0..<50).map { index in try document.string(expression, from: incidents[index % 2]) }
                }
            }
            var all: [String?] = []
            for try await part in group { all += part }
            return all
        }
        #expect(summaries.count == 800)
        #expect(Set(summaries) == ["inc-1/Chest pain", "inc-2/Fall"])
    }
}
