import CLibXML2

/// A document parsed by `SafeXMLParser` into the flat tree, on which `XPathExpression`s are evaluated with the
/// same results as on an `XMLDocument`, but mostly without libxml2's DOM.
///
/// Expressions in the subset that `XPathSubset` describes (the forms mapping files use) are evaluated on the
/// tree. Anything else, and the rare string value the tree cannot give exactly (an element whose own text
/// is mixed with its descendants'), is evaluated by libxml2 on an `XMLDocument` parsed from the same bytes the
/// first time one is needed, so each result is what libxml2's XPath gives.
///
/// For one decode, on one task: it parses its fallback lazily, so it is not `Sendable`.
public final class XPathDocument {
    /// The root element.
    public let root: XMLElement
    private let bytes: [UInt8]
    private let limits: XMLParseLimits
    /// The transport's charset, for the fallback's second parse of `bytes`.
    private let charset: String?
    /// libxml2's tree of the same bytes, with its elements in document order (the tree's positions), once needed.
    private var fallback: (document: XMLDocument, elements: [xmlNodePtr])?
    /// Scratch space for `strings(_:from:)`, kept between context nodes so that reading a record allocates
    /// nothing but its values.
    private var pathValues: [PathValue] = []
    private var fieldText: [UInt8] = []

    /// Parses `bytes` as `SafeXMLParser` does (same limits and refusals, same errors). `scope` must keep every
    /// node, or record source positions (the fallback pairs libxml2's elements with the tree's by their
    /// positions in the document): `XMLReadScope.everything(comparing:)` from the expressions to be evaluated,
    /// or a narrower scope with `sourcePositions` that keeps every node the expressions can reach and the whole
    /// subtree of every element whose string value they take (as `XMLMapping.readScope` is built).
    public init(
        parsing bytes: [UInt8], limits: XMLParseLimits = XMLParseLimits(), scope: XMLReadScope = .everything,
        charset: String? = nil
    ) throws(XMLParseError) {
        precondition(
            scope.keepsEverything || scope.sourcePositions,
            "an XPathDocument needs every node of its document, or each kept one's source position")
        root = try SafeXMLParser.parse(bytes, limits: limits, reading: scope, charset: charset)
        self.bytes = bytes
        self.limits = limits
        self.charset = charset
    }

    /// The nodes `expression` selects, in document order, evaluated from `node` (the document when nil).
    /// Throws as `XMLDocument.nodes(matching:from:)` does.
    public func nodes(matching expression: XPathExpression, from node: XPathNode? = nil) throws(XPathError)
        -> [XPathNode]
    {
        let context = try treeContext(node, for: expression)
        if let context, case .path(let path) = expression.subset {
            return path.select(from: context, in: root.tree).map { XPathNode(.tree($0, root.tree)) }
        }
        let (document, contextNode) = try libxml2Context(node, for: expression)
        return try document.nodes(matching: expression, from: contextNode).map { XPathNode(.libxml2($0)) }
    }

    /// The nodes `selector` selects from `node` (the document when nil), in document order: exactly
    /// `nodes(matching:from:)` of its expression, found by the scope's numbers when the selector was compiled for
    /// the scope this document was parsed with.
    public func nodes(selectedBy selector: XPathNodeSelector, from node: XPathNode? = nil) throws(XPathError)
        -> [XPathNode]
    {
        let tree = root.tree
        guard let steps = selector.steps, let compiledFor = selector.scope, compiledFor.isSame(as: tree.scope),
            let context = try treeContext(node, for: selector.expression)
        else {
            return try nodes(matching: selector.expression, from: node)
        }
        return tree.select(steps, from: selector.isAbsolute ? .document : context).map { XPathNode(.tree($0, tree)) }
    }

    /// The XPath string value of `expression` evaluated from `node` (the document when nil), with surrounding
    /// whitespace trimmed; nil when that leaves nothing. As `XMLDocument.string(_:from:)`.
    public func string(_ expression: XPathExpression, from node: XPathNode? = nil) throws(XPathError) -> String? {
        if let context = try treeContext(node, for: expression), let subset = expression.subset,
            let text = subset.string(from: context, in: root.tree)
        {
            return text.trimmingXMLWhitespace
        }
        let (document, contextNode) = try libxml2Context(node, for: expression)
        return try document.string(expression, from: contextNode)
    }

    /// The string value of every field of `fields` from `node` (the document when nil), in order, into
    /// `values` (replacing what it held, keeping its storage for the next node): each exactly what
    /// `string(_:from:)` gives for the field's expression, and nil for a field without one.
    public func strings(_ fields: XPathFieldSet, from node: XPathNode? = nil, into values: inout [String?])
        throws(XPathError)
    {
        let storage = fields.storage
        values.removeAll(keepingCapacity: true)
        guard let context = try treeContext(node, for: storage.expressions.lazy.compactMap { $0 }.first) else {
            // A node libxml2 selected: every field as libxml2 reads it.
            for expression in storage.expressions {
                values.append(try expression.map { expression throws(XPathError) in try string(expression, from: node) } ?? nil)
            }
            return
        }
        let tree = root.tree
        // Taken out of the document for the loop, so that using them is not an access to a class's property.
        var found = pathValues
        var text = fieldText
        pathValues = []
        fieldText = []
        defer {
            pathValues = found
            fieldText = text
        }
        found.removeAll(keepingCapacity: true)
        found.append(contentsOf: repeatElement(.unresolved, count: storage.paths.count))
        func value(ofPath index: Int32) -> PathValue {
            if case .unresolved = found[Int(index)] {
                found[Int(index)] = tree.pathValue(Int(index), of: storage, from: context)
            }
            return found[Int(index)]
        }
        for (offset, field) in storage.fields.enumerated() {
            switch field.kind {
            case .absent:
                values.append(nil)
                continue
            case .alone:
                values.append(try string(storage.expressions[offset]!, from: node))
                continue
            case .parts:
                break
            }
            // A path alone, the usual field, becomes a String straight from the tree's bytes.
            if field.parts.count == 1, !storage.parts[Int(field.parts.lowerBound)].isLiteral {
                switch value(ofPath: storage.parts[Int(field.parts.lowerBound)].path) {
                case .bytes(let range): values.append(tree.trimmedString(range))
                case .string(let string): values.append(string.trimmingXMLWhitespace)
                case .unknown, .unresolved: values.append(try string(storage.expressions[offset]!, from: node))
                }
                continue
            }
            text.removeAll(keepingCapacity: true)
            var known = true
            for index in field.parts {
                let part = storage.parts[Int(index)]
                if part.isLiteral {
                    text.append(
                        contentsOf: storage.literalBytes[Int(part.literal.lowerBound)..<Int(part.literal.upperBound)])
                    continue
                }
                switch value(ofPath: part.path) {
                case .bytes(let range):
                    text.append(contentsOf: tree.bytes[range])
                case .string(let string): text.append(contentsOf: string.utf8)
                case .unknown, .unresolved: known = false
                }
            }
            values.append(
                known ? text.withUnsafeBufferPointer(trimmedText) : try string(storage.expressions[offset]!, from: node))
        }
    }

    /// The context as a node of the tree; nil when it is one of libxml2's (from a fallback evaluation).
    private func treeContext(_ node: XPathNode?, for expression: XPathExpression?) throws(XPathError) -> TreeNode? {
        guard let node else { return .document }
        switch node.storage {
        case .tree(let treeNode, let tree):
            guard tree === root.tree else {
                throw XPathError(expression: expression?.text ?? "", reason: .foreignNode)
            }
            return treeNode
        case .libxml2:
            return nil
        }
    }

    /// libxml2's document and the context node in it (nil for the document node), parsing it when first needed.
    private func libxml2Context(_ node: XPathNode?, for expression: XPathExpression) throws(XPathError)
        -> (XMLDocument, XMLNode?)
    {
        if let node, case .libxml2(let libxml2Node) = node.storage {
            // `XMLDocument` itself refuses a node from another document.
            return (libxml2Node.document, libxml2Node)
        }
        let (document, elements) = try fallbackDocument(for: expression)
        let contextNode: xmlNodePtr?
        switch try treeContext(node, for: expression) ?? .document {
        case .document:
            contextNode = nil
        case .element(let position):
            guard let element = libxml2Element(at: position, in: elements) else { throw Self.mismatch(expression) }
            contextNode = element
        case .attribute(let element, let index):
            guard let owner = libxml2Element(at: element, in: elements) else { throw Self.mismatch(expression) }
            // Found by name, as a scope may have left out some of the element's attributes.
            let tree = root.tree
            let wanted = tree.attributes[Int(index)]
            let (name, namespace) = (tree.string(at: wanted.name), tree.namespace(at: wanted.namespace))
            var attribute = owner.pointee.properties
            while let candidate = attribute {
                let candidateNamespace = candidate.pointee.ns?.pointee.href.map { String(cString: $0) }
                if String(cString: candidate.pointee.name) == name && candidateNamespace == namespace { break }
                attribute = candidate.pointee.next
            }
            guard let attribute else { throw Self.mismatch(expression) }
            contextNode = UnsafeMutableRawPointer(attribute).assumingMemoryBound(to: xmlNode.self)
        }
        return (document, contextNode.map { XMLNode(document: document, pointer: $0) })
    }

    private func fallbackDocument(for expression: XPathExpression) throws(XPathError)
        -> (document: XMLDocument, elements: [xmlNodePtr])
    {
        if let fallback { return fallback }
        let document: XMLDocument
        do {
            document = try XMLDocument(parsing: bytes, limits: limits, charset: charset)
        } catch {
            // Not expected: the same bytes parsed once already.
            throw XPathError(expression: expression.text, reason: .evaluation("document could not be parsed"))
        }
        let elements = Self.elementsInDocumentOrder(document)
        // libxml2's tree holds every element, in document order; the tree those its scope kept. A tree that kept
        // every element must hold as many; anything else would pair the wrong nodes.
        if root.tree.sourcePositions.isEmpty, elements.count != root.tree.nodes.count {
            throw Self.mismatch(expression)
        }
        fallback = (document, elements)
        return (document, elements)
    }

    /// libxml2's element paired with the tree's element at `position`: the one at its source position, checked
    /// to bear the same name.
    private func libxml2Element(at position: Int32, in elements: [xmlNodePtr]) -> xmlNodePtr? {
        let tree = root.tree
        guard let source = tree.sourcePosition(of: position), elements.indices.contains(Int(source)) else { return nil }
        let element = elements[Int(source)]
        let name = tree.string(at: tree.nodes[Int(position)].name)
        return String(cString: element.pointee.name) == name ? element : nil
    }

    /// libxml2's elements in document order (a pre-order walk, without recursion).
    private static func elementsInDocumentOrder(_ document: XMLDocument) -> [xmlNodePtr] {
        var elements: [xmlNodePtr] = []
        var node = xmlDocGetRootElement(document.pointer)
        while let current = node {
            elements.append(current)
            // Down to the first child element; else across to the next element sibling of this element or of
            // the nearest ancestor that has one.
            if let child = nextElement(from: current.pointee.children) {
                node = child
                continue
            }
            node = nil
            var candidate = current
            while true {
                if let sibling = nextElement(from: candidate.pointee.next) {
                    node = sibling
                    break
                }
                guard let parent = candidate.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { break }
                candidate = parent
            }
        }
        return elements
    }

    /// `node` or the first element sibling after it.
    private static func nextElement(from node: xmlNodePtr?) -> xmlNodePtr? {
        var node = node
        while let current = node, current.pointee.type != XML_ELEMENT_NODE { node = current.pointee.next }
        return node
    }

    private static func mismatch(_ expression: XPathExpression) -> XPathError {
        XPathError(expression: expression.text, reason: .evaluation("document trees do not correspond"))
    }
}

/// A node an `XPathDocument` evaluation selected: an element or attribute of its tree, or, from an expression
/// libxml2 evaluated, one of libxml2's nodes. Use it as the context of further expressions on the same document.
public struct XPathNode {
    enum Storage {
        /// The tree is kept to refuse a node of another document.
        case tree(TreeNode, XMLTree)
        case libxml2(XMLNode)
    }

    let storage: Storage

    init(_ storage: Storage) {
        self.storage = storage
    }
}
