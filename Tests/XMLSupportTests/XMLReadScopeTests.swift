import Testing
import XMLSupport

/// `SafeXMLParser` builds only what an `XMLReadScope` names, and parses (and checks) the rest all the same.
@Suite struct XMLReadScopeTests {
    private func parse(_ text: String, _ scope: XMLReadScope, limits: XMLParseLimits = XMLParseLimits()) throws
        -> XMLElement
    {
        try SafeXMLParser.parse(Array(text.utf8), limits: limits, reading: scope)
    }

    @Test func leavesOutElementsNotNamedWithTheirSubtrees() throws {
        let root = try parse(
            "<r><keep><drop><keep/></drop><keep/></keep><drop/></r>", XMLReadScope(elements: ["keep"]))
        #expect(root.name == "r")
        #expect(root.children.map(\.name) == ["keep"])
        // The `keep` inside a dropped element goes with it: a subtree left out is left out whole.
        #expect(root.child("keep")?.children.map(\.name) == ["keep"])
        #expect(root.child("keep")?.child("keep")?.children.isEmpty == true)
    }

    @Test func keepsTheRootWhateverItsName() throws {
        let root = try parse("<Bundle><entry/></Bundle>", XMLReadScope(elements: ["entry"]))
        #expect(root.name == "Bundle")
        #expect(root.children.count == 1)
    }

    @Test func keepsEveryChildOfAnElementNamedForAnyChild() throws {
        let scope = XMLReadScope(elements: ["resource", "id"], elementsWithAnyChild: ["resource"])
        let root = try parse(
            "<B><resource><Patient><id/><name/></Patient></resource><Other><id/></Other></B>", scope)
        // Patient is kept as the child of resource, but only its named children; Other is not a child of one.
        #expect(root.children.map(\.name) == ["resource"])
        #expect(root.child("resource")?.children.map(\.name) == ["Patient"])
        #expect(root.child("resource")?.child("Patient")?.children.map(\.name) == ["id"])
    }

    @Test func keepsTheRootsChildrenWhenAsked() throws {
        let text = "<documents><count><n/></count><doc><title/><n/></doc></documents>"
        let root = try parse(text, XMLReadScope(elements: ["title"], keepsRootChildren: true))
        // Every child of the root, whatever its name; below them, only what is named.
        #expect(root.children.map(\.name) == ["count", "doc"])
        #expect(root.child("count")?.children.isEmpty == true)
        #expect(root.child("doc")?.children.map(\.name) == ["title"])
        #expect(try parse(text, XMLReadScope(elements: ["title"])).children.isEmpty)
    }

    @Test func keepsOnlyTheNamedAttributesInAnyNamespace() throws {
        let root = try parse(
            #"<r xmlns:x="urn:x" value="1" other="2" x:value="3" x:type="t"/>"#,
            XMLReadScope(attributes: ["value"]))
        #expect(root.attributes.map(\.name) == ["value", "value"])
        #expect(root.attribute("value") == "1")
        #expect(root.attribute("value", namespace: "urn:x") == "3")
        #expect(root.attribute("other") == nil)
    }

    @Test func readsNoTextWhenToldNot() throws {
        let scoped = try parse("<r>words<a>more</a></r>", XMLReadScope(text: false))
        #expect(scoped.text == "")
        #expect(scoped.child("a")?.text == "")
        #expect(try parse("<r>words<a>more</a></r>", .everything).text == "words")
    }

    @Test func comparedNamesChangeNothingThatIsKept() throws {
        let text = #"<r xmlns="urn:a" xmlns:b="urn:b"><x id="1">t</x><b:y b:id="2"/><z/></r>"#
        let compared = try parse(
            text, XMLReadScope(comparedNames: ["x", "id", "nowhere"], comparedNamespaces: ["urn:b", "urn:none"]))
        let everything = try parse(text, .everything)
        #expect(compared.children.map(\.name) == ["x", "y", "z"])
        #expect(compared.children.map(\.name) == everything.children.map(\.name))
        #expect(compared.children.map(\.namespace) == ["urn:a", "urn:b", "urn:a"])
        #expect(compared.child("x")?.attribute("id") == "1" && compared.child("x")?.text == "t")
        #expect(compared.child("y", namespace: "urn:b")?.attribute("id", namespace: "urn:b") == "2")
        // With elements listed, a compared name is kept only if listed too.
        let listed = try parse(text, XMLReadScope(elements: ["z"], comparedNames: ["x"]))
        #expect(listed.children.map(\.name) == ["z"])
    }

    @Test func keepsTheWholeSubtreeOfAnElementNamedForIt() throws {
        let scope = XMLReadScope(elements: ["note", "code"], elementsWithSubtree: ["note"])
        let root = try parse(
            "<r><note>a<b>b<i>c</i></b><code/></note><other><code/></other><code>d<x/></code><note/></r>", scope)
        #expect(root.children.map(\.name) == ["note", "code", "note"])
        // Inside `note`, every element whatever its name, and all the text.
        let note = try #require(root.child("note"))
        #expect(note.children.map(\.name) == ["b", "code"])
        #expect(note.child("b")?.text == "b" && note.child("b")?.child("i")?.text == "c")
        // After it ends, the names rule again: `x` inside `code` is not kept.
        #expect(root.children[1].children.isEmpty && root.children[1].text == "d")
    }

    @Test func aSubtreeInsideASubtreeEndsWithTheOuterOne() throws {
        let scope = XMLReadScope(elements: ["s"], elementsWithSubtree: ["s"])
        let root = try parse("<r><s><s><y/></s><z/></s><w/><s><v/></s></r>", scope)
        #expect(root.children.map(\.name) == ["s", "s"])
        #expect(root.children[0].children.map(\.name) == ["s", "z"])
        #expect(root.children[1].children.map(\.name) == ["v"])
    }

    @Test func skipsTheNamedNamespaces() throws {
        let root = try parse(
            #"<r xmlns="urn:a"><text><div xmlns="urn:skip"><p/></div></text><b/></r>"#,
            XMLReadScope(skippedNamespaces: ["urn:skip"]))
        #expect(root.child("text")?.children.isEmpty == true)
        #expect(root.child("b") != nil)
    }

    @Test func whatIsLeftOutIsStillCheckedAndLimited() throws {
        let scope = XMLReadScope(elements: [], text: false)
        // Malformed inside a skipped subtree is still malformed.
        #expect(throws: XMLParseError.self) { try parse("<r><drop><a></drop></r>", scope) }
        // Invalid UTF-8 in text no one reads is still refused.
        var bytes = Array("<r><drop>caf".utf8) + [0xC3, 0x28] + Array("</drop></r>".utf8)
        #expect(throws: XMLParseError.self) { try SafeXMLParser.parse(bytes, reading: scope) }
        bytes = Array("<r><drop>café</drop></r>".utf8)
        #expect(try SafeXMLParser.parse(bytes, reading: scope).children.isEmpty)
        // Skipped elements count towards the depth limit.
        let deep = "<r>" + String(repeating: "<d>", count: 10) + String(repeating: "</d>", count: 10) + "</r>"
        let limits = XMLParseLimits(maxDepth: 8)
        #expect(throws: XMLParseError(.tooDeep(limit: 8), line: 1)) { try parse(deep, scope, limits: limits) }
        #expect(throws: XMLParseError(.tooDeep(limit: 8), line: 1)) { try parse(deep, .everything, limits: limits) }
        // A DOCTYPE is refused whatever the scope.
        #expect(throws: XMLParseError(.doctypeForbidden, line: 1)) {
            try parse(#"<!DOCTYPE r [<!ENTITY e "x">]><r/>"#, scope)
        }
    }
}
