import CLibXML2

/// A node of an `XMLDocument` found by XPath: an element, an attribute, a text node …
///
/// A handle into libxml2's tree. It holds its document, so it stays valid as long as it is kept (it never
/// dangles), and it is only ever read. Use it as the context of further expressions on the same document.
public struct XMLNode: @unchecked Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case element, attribute, text, comment, processingInstruction, document, other
    }

    /// The document the node belongs to.
    public let document: XMLDocument
    let pointer: xmlNodePtr

    init(document: XMLDocument, pointer: xmlNodePtr) {
        self.document = document
        self.pointer = pointer
    }

    public var kind: Kind {
        switch pointer.pointee.type {
        case XML_ELEMENT_NODE: .element
        case XML_ATTRIBUTE_NODE: .attribute
        case XML_TEXT_NODE, XML_CDATA_SECTION_NODE: .text
        case XML_COMMENT_NODE: .comment
        case XML_PI_NODE: .processingInstruction
        case XML_DOCUMENT_NODE: .document
        default: .other
        }
    }

    /// The local name of an element or attribute (nil for other kinds).
    public var localName: String? {
        guard kind == .element || kind == .attribute, let name = pointer.pointee.name else { return nil }
        return String(cString: name)
    }

    /// The namespace URI of an element or attribute, nil when it has none.
    public var namespace: String? {
        let namespace: xmlNsPtr?
        switch kind {
        case .element: namespace = pointer.pointee.ns
        // An attribute is an `xmlAttr`, whose layout matches `xmlNode` only up to `ns`.
        case .attribute: namespace = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: xmlAttr.self).pointee.ns
        default: namespace = nil
        }
        return namespace?.pointee.href.map { String(cString: $0) }
    }

    /// The line the node starts on (an attribute's is its element's); 0 when unknown.
    public var line: Int {
        var node: xmlNodePtr? = pointer
        if kind == .attribute { node = pointer.pointee.parent }
        guard let node else { return 0 }
        return max(0, Int(xmlGetLineNo(node)))
    }

    /// The XPath string value: an element's text including its descendants', an attribute's value.
    public var stringValue: String {
        guard let characters = xmlXPathCastNodeToString(pointer) else { return "" }
        defer { freeXMLMemory(characters) }
        return String(cString: characters)
    }

    /// Names the node by kind, name and line; never its content.
    public var description: String {
        "\(kind) \(localName.map { "'\($0)' " } ?? "")at line \(line)"
    }

    public static func == (lhs: XMLNode, rhs: XMLNode) -> Bool {
        lhs.document === rhs.document && lhs.pointer == rhs.pointer
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(document))
        hasher.combine(pointer)
    }
}
