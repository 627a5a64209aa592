/// An element of a parsed document: a small immutable tree that decoders walk.
///
/// Names are local names; `namespace` is the namespace URI (prefixes are a writer's choice and carry no meaning).
/// `text` is the element's own character data, concatenated (CDATA included), not its descendants'.
///
/// A view into an immutable `XMLTree` shared by the whole document: copying an element, or walking its
/// `children`, copies nothing. Two elements are equal when their subtrees are (names, namespaces, attributes
/// in order, text, lines and children), wherever they are stored.
public struct XMLElement: Sendable {
    let tree: XMLTree
    /// This element's position in `tree.nodes`.
    let position: Int32

    init(tree: XMLTree, position: Int32) {
        self.tree = tree
        self.position = position
    }

    /// Builds an element in code (tests, documents made by hand); `children` are copied into the new tree.
    public init(
        name: String, namespace: String? = nil, attributes: [XMLAttribute] = [], children: [XMLElement] = [],
        text: String = "", line: Int = 0
    ) {
        var builder = XMLTree.Builder()
        builder.startElement(name: builder.add(name), namespace: builder.add(namespace: namespace), line: line)
        for attribute in attributes {
            let name = builder.add(attribute.name)
            let namespace = builder.add(namespace: attribute.namespace)
            var value = attribute.value
            value.withUTF8 { builder.addAttribute(name: name, namespace: namespace, value: $0) }
        }
        var text = text
        text.withUTF8 { builder.appendText($0) }
        for child in children { builder.append(child) }
        self = builder.finish()!
    }

    private var node: XMLTree.Node {
        _read { yield tree.nodes[Int(position)] }
    }

    public var name: String { tree.string(at: node.name) }
    public var namespace: String? { tree.namespace(at: node.namespace) }
    /// The line it starts on in the source document, for error messages.
    public var line: Int { Int(node.line) }
    public var text: String { tree.string(node.text) }

    /// The attributes in document order (made on each call: prefer `attribute(_:namespace:)` to look one up).
    public var attributes: [XMLAttribute] {
        let range = node.attributes
        return tree.attributes[range].map {
            XMLAttribute(
                name: tree.string(at: $0.name), namespace: tree.namespace(at: $0.namespace), value: tree.string($0.value))
        }
    }

    /// The child elements, in document order.
    public var children: Children { Children(tree: tree, positions: node.children) }

    /// The value of the first attribute with this local name (and no namespace, unless one is given).
    public func attribute(_ name: String, namespace: String? = nil) -> String? {
        attributeValueRange(name, namespace: namespace).map(tree.string)
    }

    /// Calls `body` with the UTF-8 of the first attribute with this local name (and no namespace, unless one is
    /// given), without making a String of it; nil when there is no such attribute. For readers that compare or
    /// parse a value rather than keep it.
    package func withAttribute<Result>(
        _ name: String, namespace: String? = nil, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result? {
        guard let range = attributeValueRange(name, namespace: namespace) else { return nil }
        return withExtendedLifetime(tree) { body(tree.bytes[range]) }
    }

    /// True when the element has neither children nor character data (`<reference value="#x"/>`): checked
    /// without making a String of its text.
    package var isEmptyLeaf: Bool {
        let node = node
        return node.children.isEmpty && node.text.isEmpty
    }

    /// True when the element has an attribute with this local name (and no namespace, unless one is given).
    package func hasAttribute(_ name: String, namespace: String? = nil) -> Bool {
        attributeValueRange(name, namespace: namespace) != nil
    }

    private func attributeValueRange(_ name: String, namespace: String?) -> Range<Int32>? {
        let range = node.attributes
        for index in Int(range.lowerBound)..<Int(range.upperBound) {
            let attribute = tree.attributes[index]
            if tree.string(at: attribute.name, equals: name)
                && tree.namespace(at: attribute.namespace, equals: namespace)
            {
                return attribute.value
            }
        }
        return nil
    }

    /// True when this element's local name is `name` (without making a String of it).
    public func isNamed(_ name: String) -> Bool {
        tree.string(at: node.name, equals: name)
    }

    /// The first child element with this local name.
    public func child(_ name: String) -> XMLElement? {
        firstChild { tree.string(at: $0.name, equals: name) }
    }

    /// The first child element with this local name and namespace URI (nil: in no namespace).
    public func child(_ name: String, namespace: String?) -> XMLElement? {
        firstChild { tree.string(at: $0.name, equals: name) && tree.namespace(at: $0.namespace, equals: namespace) }
    }

    /// Every child element with this local name, in document order.
    public func children(_ name: String) -> [XMLElement] {
        children { tree.string(at: $0.name, equals: name) }
    }

    /// Every child element with this local name and namespace URI (nil: in no namespace), in document order,
    /// found as the sequence is walked: nothing is allocated, and a walk that stops early looks no further.
    public func children(named name: String, namespace: String?) -> NamedChildren {
        NamedChildren(tree: tree, positions: node.children, name: name, namespace: namespace)
    }

    // The lookups above run for nearly every field a decoder reads, so they test the children's nodes in place
    // rather than making an `XMLElement` (and reading its name as a String) for each child passed over.

    private func firstChild(where matches: (XMLTree.Node) -> Bool) -> XMLElement? {
        let range = node.children
        for index in Int(range.lowerBound)..<Int(range.upperBound) {
            let position = tree.childPositions[index]
            if matches(tree.nodes[Int(position)]) { return XMLElement(tree: tree, position: position) }
        }
        return nil
    }

    private func children(where matches: (XMLTree.Node) -> Bool) -> [XMLElement] {
        let range = node.children
        var found: [XMLElement] = []
        for index in Int(range.lowerBound)..<Int(range.upperBound) {
            let position = tree.childPositions[index]
            if matches(tree.nodes[Int(position)]) { found.append(XMLElement(tree: tree, position: position)) }
        }
        return found
    }

    /// Follows a path of local names through first matching children: `element.descendant("code", "coding")`.
    public func descendant(_ path: String...) -> XMLElement? {
        var current = self
        for name in path {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current
    }

    /// An element's child elements: a collection of views, made without copying or allocating.
    public struct Children: RandomAccessCollection, Sendable {
        let tree: XMLTree
        /// The children's positions, in `tree.childPositions`.
        let positions: Range<Int32>

        public var startIndex: Int { 0 }
        public var endIndex: Int { positions.count }

        public subscript(index: Int) -> XMLElement {
            precondition(indices.contains(index), "child index out of range")
            return XMLElement(tree: tree, position: tree.childPositions[Int(positions.lowerBound) + index])
        }
    }
}

extension XMLElement {
    /// The child elements of one name and namespace (see `children(named:namespace:)`).
    public struct NamedChildren: Sequence, Sendable {
        let tree: XMLTree
        let positions: Range<Int32>
        let name: String
        let namespace: String?

        /// No children at all (what an absent parent has).
        public init() {
            tree = XMLTree.empty
            positions = 0..<0
            name = ""
            namespace = nil
        }

        init(tree: XMLTree, positions: Range<Int32>, name: String, namespace: String?) {
            self.tree = tree
            self.positions = positions
            self.name = name
            self.namespace = namespace
        }

        public func makeIterator() -> Iterator {
            Iterator(children: self, index: Int(positions.lowerBound))
        }

        public struct Iterator: IteratorProtocol {
            let children: NamedChildren
            /// The next position to look at in `tree.childPositions`.
            var index: Int

            public mutating func next() -> XMLElement? {
                let tree = children.tree
                while index < Int(children.positions.upperBound) {
                    let position = tree.childPositions[index]
                    index += 1
                    let node = tree.nodes[Int(position)]
                    if tree.string(at: node.name, equals: children.name)
                        && tree.namespace(at: node.namespace, equals: children.namespace)
                    {
                        return XMLElement(tree: tree, position: position)
                    }
                }
                return nil
            }
        }
    }
}

extension XMLElement: Hashable {
    public static func == (lhs: XMLElement, rhs: XMLElement) -> Bool {
        if lhs.tree === rhs.tree && lhs.position == rhs.position { return true }
        return lhs.name == rhs.name && lhs.namespace == rhs.namespace && lhs.line == rhs.line
            && lhs.text == rhs.text && lhs.attributes == rhs.attributes && lhs.children.elementsEqual(rhs.children)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(namespace)
        hasher.combine(line)
        hasher.combine(text)
        hasher.combine(attributes)
        hasher.combine(children.count)
        for child in children { hasher.combine(child) }
    }
}

public struct XMLAttribute: Sendable, Hashable {
    public var name: String
    public var namespace: String?
    public var value: String

    public init(name: String, namespace: String? = nil, value: String) {
        self.name = name
        self.namespace = namespace
        self.value = value
    }
}
