/// The storage behind `XMLElement`: every element of one tree in flat arrays, in document order (the root first).
///
/// A parse makes one `XMLTree` and a handful of allocations in all, instead of several per element; an
/// `XMLElement` is then a reference to the tree and a position in it, so copying one, or walking children,
/// copies nothing. Immutable once built, hence `Sendable`.
///
/// Positions are `Int32`: a tree holds fewer than 2³¹ of anything, as the parser refuses input over 2 GiB (every
/// element takes at least three bytes of it, and text and attribute values are never longer than their source).
final class XMLTree: Sendable {
    /// Plain values only (names are positions in `strings`), so building, copying and freeing nodes never
    /// touches a reference count.
    struct Node: Sendable {
        /// The local name, in `strings`.
        var name: Int32
        /// The namespace URI, in `strings`; `noNamespace` when it has none.
        var namespace: Int32
        /// The source line (Int32 keeps the node small; a line number is below the 2 GiB input cap).
        var line: Int32
        /// The parent element's position; `noParent` for the root.
        var parent: Int32
        /// This element's attributes, in `attributes`.
        var attributes: Range<Int32>
        /// This element's children's positions, in `childPositions`.
        var children: Range<Int32>
        /// This element's own character data, in `bytes`.
        var text: Range<Int32>
    }

    struct Attribute: Sendable {
        var name: Int32
        var namespace: Int32
        /// The value with character references decoded, in `bytes`.
        var value: Range<Int32>
    }

    /// The `namespace` of a node or attribute in no namespace.
    static let noNamespace: Int32 = -1

    /// The `parent` of the root.
    static let noParent: Int32 = -1

    /// A tree without elements, behind views of nothing (the children of an absent element).
    static let empty = XMLTree(Builder())

    let nodes: TreeBuffer<Node>
    /// Names and namespace URIs, each once per parse (or repeated, when built in code).
    let strings: [String]
    /// For each of `strings`, its index among the names (or namespace URIs) of the scope the tree was parsed
    /// with (`XMLReadScope.noIndex` when the scope does not list it): a reader compiled against that scope
    /// matches names by these numbers.
    let nameIndices: [Int32]
    /// The scope the tree was parsed with; nil for a tree built in code.
    let scope: XMLReadScope?
    let attributes: TreeBuffer<Attribute>
    /// Each element's children's positions in `nodes`, one run per element.
    let childPositions: TreeBuffer<Int32>
    /// UTF-8 of every element's text and every attribute value. Converted to `String` only when read.
    let bytes: TreeBuffer<UInt8>
    /// Each node's position among all the source document's elements, when the scope asked for them
    /// (`XMLReadScope.sourcePositions`); empty otherwise.
    let sourcePositions: TreeBuffer<Int32>

    /// Takes over the builder's buffers as they are: a parse's tree is never copied.
    fileprivate init(_ builder: consuming Builder) {
        strings = builder.strings
        nameIndices = builder.nameIndices
        scope = builder.scope
        nodes = TreeBuffer(adopting: builder.nodes.adopt())
        attributes = TreeBuffer(adopting: builder.attributes.adopt())
        childPositions = TreeBuffer(adopting: builder.childPositions.adopt())
        bytes = TreeBuffer(adopting: builder.bytes.adopt())
        sourcePositions = TreeBuffer(adopting: builder.sourcePositions.adopt())
    }

    deinit {
        nodes.deallocate()
        attributes.deallocate()
        childPositions.deallocate()
        bytes.deallocate()
        sourcePositions.deallocate()
    }

    /// The position among all the source document's elements (in document order) of the element at `position`;
    /// nil when the tree was built without them (`XMLReadScope.sourcePositions`) from a scope that left out
    /// some element. The pairing of this tree with another parse of the same document.
    func sourcePosition(of position: Int32) -> Int32? {
        if !sourcePositions.isEmpty { return sourcePositions[Int(position)] }
        return (scope?.keepsEverything ?? true) ? position : nil
    }

    func string(at position: Int32) -> String { strings[Int(position)] }

    func namespace(at position: Int32) -> String? {
        position == Self.noNamespace ? nil : strings[Int(position)]
    }

    /// True when the string at `position` in `strings` is `string`. Lengths are compared first: the names a
    /// lookup passes over mostly differ in length, which is cheaper to see than a full comparison.
    @inline(__always)
    func string(at position: Int32, equals string: String) -> Bool {
        let stored = strings[Int(position)]
        return stored.utf8.count == string.utf8.count && stored == string
    }

    /// True when the namespace at `position` is `namespace` (both none, or the same URI).
    @inline(__always)
    func namespace(at position: Int32, equals namespace: String?) -> Bool {
        guard let namespace else { return position == Self.noNamespace }
        return position != Self.noNamespace && string(at: position, equals: namespace)
    }

    /// The UTF-8 in `range` of `bytes` as a String (the parser has already refused invalid UTF-8).
    func string(_ range: Range<Int32>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// Builds a tree from start and end events, as SAX delivers them: `startElement`, then its attributes,
    /// then any mix of text and child elements, then `endElement`. An element's text runs are concatenated.
    ///
    /// While elements are open, their children and text collect on stacks (`pendingChildren`, `pendingText`);
    /// when one ends, its runs are at the top and move, contiguous, into the tree. Everything it appends per
    /// element goes into `GrowableBuffer`s, which is why it cannot be copied.
    struct Builder: ~Copyable {
        fileprivate var nodes: GrowableBuffer<Node>
        fileprivate var strings: [String] = []
        fileprivate var nameIndices: [Int32] = []
        fileprivate let scope: XMLReadScope?
        private let recordsSourcePositions: Bool
        fileprivate var attributes: GrowableBuffer<Attribute>
        fileprivate var childPositions: GrowableBuffer<Int32>
        fileprivate var bytes: GrowableBuffer<UInt8>
        /// Filled only when the scope asks for source positions.
        fileprivate var sourcePositions: GrowableBuffer<Int32>

        // Not private: Swift 6.3 fails to compile (debug) a private type as the element of a GrowableBuffer
        // stored in this noncopyable struct ("Global is external, but doesn't have external linkage").
        struct OpenElement {
            var position: Int32
            var firstPendingChild: Int
            var firstPendingText: Int
        }

        private var open: GrowableBuffer<OpenElement>
        private var pendingChildren: GrowableBuffer<Int32>
        private var pendingText: GrowableBuffer<UInt8>

        /// How many elements are open.
        var depth: Int { open.count }

        /// True once the root element has ended; the tree is then complete.
        var isComplete: Bool { open.isEmpty && !nodes.isEmpty }

        init(expectedBytes: Int = 0, scope: XMLReadScope? = nil) {
            self.scope = scope
            recordsSourcePositions = scope?.sourcePositions == true
            // Text and attribute values are most of a document; structure is the rest.
            bytes = GrowableBuffer(capacity: expectedBytes / 2)
            nodes = GrowableBuffer(capacity: expectedBytes / 32)
            attributes = GrowableBuffer(capacity: expectedBytes / 64)
            childPositions = GrowableBuffer(capacity: expectedBytes / 32)
            open = GrowableBuffer(capacity: 32)
            pendingChildren = GrowableBuffer(capacity: 64)
            pendingText = GrowableBuffer(capacity: 256)
            sourcePositions = recordsSourcePositions ? GrowableBuffer(capacity: expectedBytes / 32) : GrowableBuffer()
            // A document's distinct names and namespaces: tens, each added once (growing from empty would
            // reallocate several times per document).
            strings.reserveCapacity(64)
            nameIndices.reserveCapacity(64)
        }

        /// Adds a name or namespace URI, for `startElement` and `addAttribute`, with its index in the scope's
        /// names or namespace URIs.
        mutating func add(_ string: String, index: Int32 = XMLReadScope.noIndex) -> Int32 {
            strings.append(string)
            nameIndices.append(index)
            return Int32(strings.count - 1)
        }

        mutating func add(namespace: String?) -> Int32 {
            namespace.map { add($0) } ?? XMLTree.noNamespace
        }

        /// `source`: the element's position among all the document's elements, recorded when the scope asks.
        mutating func startElement(name: Int32, namespace: Int32, line: Int, source: Int32 = 0) {
            let position = Int32(nodes.count)
            let parent: Int32
            if let top = open.last {
                parent = top.position
                pendingChildren.append(position)
            } else {
                parent = XMLTree.noParent
            }
            let attributeStart = Int32(attributes.count)
            nodes.append(
                Node(
                    name: name, namespace: namespace, line: Int32(clamping: line), parent: parent,
                    attributes: attributeStart..<attributeStart, children: 0..<0, text: 0..<0))
            open.append(
                OpenElement(
                    position: position, firstPendingChild: pendingChildren.count, firstPendingText: pendingText.count))
            if recordsSourcePositions { sourcePositions.append(source) }
        }

        /// Adds an attribute with this value (UTF-8, references already decoded) to the element just started.
        mutating func addAttribute(name: Int32, namespace: Int32, value: UnsafeBufferPointer<UInt8>) {
            let start = Int32(bytes.count)
            bytes.append(contentsOf: value)
            attributes.append(Attribute(name: name, namespace: namespace, value: start..<Int32(bytes.count)))
            let last = nodes.count - 1
            nodes[last].attributes = nodes[last].attributes.lowerBound..<Int32(attributes.count)
        }

        /// Adds character data to the innermost open element.
        mutating func appendText(_ text: UnsafeBufferPointer<UInt8>) {
            guard !open.isEmpty else { return }
            pendingText.append(contentsOf: text)
        }

        mutating func endElement() {
            guard !open.isEmpty else { return }
            let element = open.removeLast()
            let index = Int(element.position)
            // Most elements are leaves, and many have no text: skip the moves (and the empty ranges the node
            // already holds) rather than pay for copying nothing.
            if pendingChildren.count > element.firstPendingChild {
                let childStart = Int32(childPositions.count)
                pendingChildren.moveTail(from: element.firstPendingChild, to: &childPositions)
                nodes[index].children = childStart..<Int32(childPositions.count)
            }
            if pendingText.count > element.firstPendingText {
                let textStart = Int32(bytes.count)
                pendingText.moveTail(from: element.firstPendingText, to: &bytes)
                nodes[index].text = textStart..<Int32(bytes.count)
            }
        }

        /// Copies `element` and its subtree (from any tree) in as a child of the open element, or as the root.
        mutating func append(_ element: XMLElement) {
            let tree = element.tree
            let node = tree.nodes[Int(element.position)]
            startElement(
                name: add(tree.string(at: node.name)), namespace: add(namespace: tree.namespace(at: node.namespace)),
                line: Int(node.line))
            for attribute in tree.attributes[node.attributes] {
                let name = add(tree.string(at: attribute.name))
                let namespace = add(namespace: tree.namespace(at: attribute.namespace))
                addAttribute(name: name, namespace: namespace, value: tree.bytes[attribute.value])
            }
            appendText(tree.bytes[node.text])
            for child in element.children { append(child) }
            endElement()
            withExtendedLifetime(tree) {}
        }

        /// The finished tree's root element; nil when no element was started.
        consuming func finish() -> XMLElement? {
            while !open.isEmpty { endElement() }
            guard !nodes.isEmpty else { return nil }
            return XMLElement(tree: XMLTree(self), position: 0)
        }
    }
}

/// One of a tree's runs of plain values, in memory the tree owns: adopted from the builder's `GrowableBuffer`
/// without a copy, and freed by the tree's `deinit`. Indices are checked, as an array's are.
///
/// A range subscript gives the elements in place; what it returns is valid only while the tree is alive, so
/// it is only ever read inside the tree's or an element's own methods (which hold the tree).
struct TreeBuffer<Element>: @unchecked Sendable {
    private let elements: UnsafeMutableBufferPointer<Element>

    init(adopting elements: UnsafeMutableBufferPointer<Element>) {
        self.elements = elements
    }

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }

    subscript(index: Int) -> Element {
        precondition(index >= 0 && index < elements.count, "tree index out of range")
        return elements[index]
    }

    subscript(range: Range<Int>) -> UnsafeBufferPointer<Element> {
        precondition(range.lowerBound >= 0 && range.upperBound <= elements.count, "tree range out of range")
        return UnsafeBufferPointer(rebasing: elements[range])
    }

    subscript(range: Range<Int32>) -> UnsafeBufferPointer<Element> {
        self[Int(range.lowerBound)..<Int(range.upperBound)]
    }

    func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<Element>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(elements))
    }

    /// Called once, by the tree that owns the memory.
    func deallocate() {
        elements.baseAddress?.deinitialize(count: elements.count)
        elements.deallocate()
    }
}
