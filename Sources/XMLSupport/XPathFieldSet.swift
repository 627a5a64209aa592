/// Several expressions read together from each of many context nodes: a mapping rule's fields from each of
/// its records. Give it to `XPathDocument.strings(_:from:into:)`.
///
/// Each field's string value is exactly what `XPathDocument.string(_:from:)` gives for its expression. What
/// reading them together saves is the work between the tree and the answer: a location path that several
/// fields use (a code's `@display` in both the display and the summary) is walked once per context node, and
/// a field that is a path or a `concat` of paths and literals is made into one String straight from the
/// tree's bytes, not through a String for every part. Any other expression (`substring`, or one outside the
/// subset `XPathSubset` describes) is read on its own, as `string(_:from:)` reads it.
///
/// Compiled for a read scope (`XMLReadScope.everything(comparing:)` of the same expressions), the paths'
/// names become the scope's name numbers, and on a tree parsed with that scope each step compares numbers:
/// no String is touched, and so no reference count, until a value is made.
public struct XPathFieldSet: Sendable {
    /// One field: `alone` and `parts` index into the storage's plans. Plain values only, so reading the plan
    /// for every record of every document never touches a reference count.
    struct Field: Sendable {
        enum Kind: UInt8, Sendable {
            /// No expression: always nil.
            case absent
            /// Read on its own by `XPathDocument.string(_:from:)`.
            case alone
            /// The concatenation of `parts`: a path alone, a literal alone, or a `concat` of both.
            case parts
        }

        var kind: Kind
        /// The field's parts, in `Storage.parts`.
        var parts: Range<Int32>
    }

    /// A literal (its bytes in `Storage.literalBytes`) or a path (its position in `Storage.paths`).
    struct Part: Sendable {
        var isLiteral: Bool
        var literal: Range<Int32>
        var path: Int32
    }

    /// A location step in the scope's numbers (see `XMLReadScope.index(ofName:)`).
    struct CompiledStep: Sendable {
        enum Kind: UInt8, Sendable {
            case child
            case attribute
            case parent
        }

        var kind: Kind
        var name: Int32
        /// `XMLReadScope.noIndex` for a name in no namespace.
        var namespace: Int32

        /// The path's steps in `scope`'s numbers; nil when the scope does not list one of its names.
        static func compile(_ path: XPathSubset.Path, for scope: XMLReadScope) -> [CompiledStep]? {
            var steps: [CompiledStep] = []
            for step in path.steps {
                switch step {
                case .parent:
                    steps.append(CompiledStep(kind: .parent, name: XMLReadScope.noIndex, namespace: XMLReadScope.noIndex))
                case .child(let name), .attribute(let name):
                    guard let local = scope.index(ofName: name.local) else { return nil }
                    var namespace = XMLReadScope.noIndex
                    if let uri = name.namespace {
                        guard let index = scope.index(ofNamespace: uri) else { return nil }
                        namespace = index
                    }
                    let kind: Kind
                    if case .attribute = step { kind = .attribute } else { kind = .child }
                    steps.append(CompiledStep(kind: kind, name: local, namespace: namespace))
                }
            }
            return steps
        }

        /// True when a name and namespace (positions in the tree's strings, the namespace `XMLTree.noNamespace`
        /// for none) are this step's, by the scope numbers in `names` (the tree's `nameIndices`).
        @inline(__always)
        func matches(name: Int32, namespace: Int32, names: UnsafeBufferPointer<Int32>) -> Bool {
            guard names[Int(name)] == self.name else { return false }
            if self.namespace == XMLReadScope.noIndex { return namespace == XMLTree.noNamespace }
            return namespace != XMLTree.noNamespace && names[Int(namespace)] == self.namespace
        }
    }

    /// Behind one reference, as a rule's field set is handed to every record of every document.
    final class Storage: Sendable {
        /// The fields' expressions, for the fields read on their own and for contexts outside the tree.
        let expressions: [XPathExpression?]
        let fields: [Field]
        let parts: [Part]
        let literalBytes: [UInt8]
        /// Every distinct location path the fields' parts use, each walked at most once per context node.
        let paths: [XPathSubset.Path]
        /// The scope the steps were compiled for; nil when they were not (no scope given, or a name it lacks).
        let scope: XMLReadScope?
        /// Each path's steps, in `steps`, and whether it starts from the document.
        let stepRanges: [Range<Int32>]
        let absolute: [Bool]
        let steps: [CompiledStep]

        init(_ expressions: [XPathExpression?], scope: XMLReadScope?) {
            var paths: [XPathSubset.Path] = []
            var pathPositions: [XPathSubset.Path: Int32] = [:]
            var parts: [Part] = []
            var literalBytes: [UInt8] = []
            func part(_ subset: XPathSubset) -> Part? {
                switch subset {
                case .literal(let text):
                    let start = Int32(literalBytes.count)
                    literalBytes += Array(text.utf8)
                    return Part(isLiteral: true, literal: start..<Int32(literalBytes.count), path: 0)
                case .path(let path):
                    if let known = pathPositions[path] { return Part(isLiteral: false, literal: 0..<0, path: known) }
                    paths.append(path)
                    pathPositions[path] = Int32(paths.count - 1)
                    return Part(isLiteral: false, literal: 0..<0, path: Int32(paths.count - 1))
                case .concat, .substring:
                    return nil
                }
            }
            fields = expressions.map { expression -> Field in
                guard let expression else { return Field(kind: .absent, parts: 0..<0) }
                let arguments: [XPathSubset]
                switch expression.subset {
                case .literal, .path: arguments = [expression.subset!]
                case .concat(let list): arguments = list
                case .substring, nil: return Field(kind: .alone, parts: 0..<0)
                }
                let found = arguments.compactMap(part)
                guard found.count == arguments.count else { return Field(kind: .alone, parts: 0..<0) }
                let start = Int32(parts.count)
                parts += found
                return Field(kind: .parts, parts: start..<Int32(parts.count))
            }
            self.expressions = expressions
            self.parts = parts
            self.literalBytes = literalBytes
            self.paths = paths

            var steps: [CompiledStep] = []
            var stepRanges: [Range<Int32>] = []
            var compiled = scope != nil
            for path in paths where compiled {
                guard let scope, let pathSteps = CompiledStep.compile(path, for: scope) else {
                    compiled = false
                    break
                }
                stepRanges.append(Int32(steps.count)..<Int32(steps.count + pathSteps.count))
                steps += pathSteps
            }
            self.scope = compiled ? scope : nil
            self.stepRanges = compiled ? stepRanges : []
            self.steps = compiled ? steps : []
            absolute = paths.map(\.isAbsolute)
        }
    }

    let storage: Storage

    /// How many fields: as many as expressions given, nil ones included.
    public var count: Int { storage.fields.count }

    /// The fields, in order; a nil expression is a field that is always nil. `scope`: the scope the documents
    /// will be parsed with, to compile the paths' names to its numbers (see the type's description).
    public init(_ expressions: [XPathExpression?], scope: XMLReadScope? = nil) {
        storage = Storage(expressions, scope: scope)
    }
}

/// What a path gives from one context node, found at most once per node.
enum PathValue {
    case unresolved
    /// An attribute's value or a leaf element's text, in the tree's `bytes` (empty when the path selects nothing).
    case bytes(Range<Int32>)
    /// The string value of an element with children.
    case string(String)
    /// The tree cannot give it exactly (mixed content, see `XMLTree.stringValue(of:)`): libxml2 must.
    case unknown
}

extension XMLTree {
    /// What the path's first node gives as a string value from `context`.
    func pathValue(_ index: Int, of fields: XPathFieldSet.Storage, from context: TreeNode) -> PathValue {
        let found: TreeNode?
        if let compiledFor = fields.scope, compiledFor.isSame(as: scope) {
            let range = fields.stepRanges[index]
            found = fields.steps.withUnsafeBufferPointer { steps in
                first(
                    UnsafeBufferPointer(rebasing: steps[Int(range.lowerBound)..<Int(range.upperBound)]),
                    from: fields.absolute[index] ? .document : context)
            }
        } else {
            found = fields.paths[index].first(from: context, in: self)
        }
        switch found {
        case nil:
            return .bytes(0..<0)
        case .attribute(_, let index):
            return .bytes(attributes[Int(index)].value)
        case .element(let position) where nodes[Int(position)].children.isEmpty:
            return .bytes(nodes[Int(position)].text)
        case let node?:
            return stringValue(of: node).map { .string($0) } ?? .unknown
        }
    }

    /// The first node in document order that compiled `steps` select from `context` (see `Path.first`), names
    /// matched by the scope's numbers in `nameIndices`.
    func first(_ steps: UnsafeBufferPointer<XPathFieldSet.CompiledStep>, from context: TreeNode) -> TreeNode? {
        nodes.withUnsafeBufferPointer { nodes in
            childPositions.withUnsafeBufferPointer { children in
                nameIndices.withUnsafeBufferPointer { names in
                    attributes.withUnsafeBufferPointer { attributes in
                        func matches(name: Int32, namespace: Int32, _ step: XPathFieldSet.CompiledStep) -> Bool {
                            step.matches(name: name, namespace: namespace, names: names)
                        }
                        func visit(_ node: TreeNode, _ index: Int) -> TreeNode? {
                            guard index < steps.count else { return node }
                            let step = steps[index]
                            switch (step.kind, node) {
                            case (.child, .document):
                                let root = nodes[0]
                                return matches(name: root.name, namespace: root.namespace, step)
                                    ? visit(.element(0), index + 1) : nil
                            case (.child, .element(let position)):
                                let range = nodes[Int(position)].children
                                for child in children[Int(range.lowerBound)..<Int(range.upperBound)] {
                                    let node = nodes[Int(child)]
                                    if matches(name: node.name, namespace: node.namespace, step),
                                        let found = visit(.element(child), index + 1)
                                    {
                                        return found
                                    }
                                }
                                return nil
                            case (.attribute, .element(let position)):
                                // Always the last step.
                                let range = nodes[Int(position)].attributes
                                for attribute in range
                                where matches(
                                    name: attributes[Int(attribute)].name,
                                    namespace: attributes[Int(attribute)].namespace, step)
                                {
                                    return .attribute(element: position, index: attribute)
                                }
                                return nil
                            case (.parent, .element(let position)):
                                let up = nodes[Int(position)].parent
                                return visit(up == XMLTree.noParent ? .document : .element(up), index + 1)
                            case (.parent, .attribute(let element, _)):
                                return visit(.element(element), index + 1)
                            case (.child, .attribute), (.attribute, .document), (.attribute, .attribute),
                                (.parent, .document):
                                return nil
                            }
                        }
                        return visit(context, 0)
                    }
                }
            }
        }
    }

    /// `bytes` in `range` as a String with surrounding XML white space trimmed; nil when that leaves nothing.
    func trimmedString(_ range: Range<Int32>) -> String? {
        trimmedText(bytes[range])
    }
}

/// `bytes` (UTF-8) as a String with surrounding white space trimmed as `trimmingXMLWhitespace` trims it; nil
/// when that leaves nothing. The usual value has nothing to trim and becomes a String in one step.
func trimmedText(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    guard let first = bytes.first, let last = bytes.last else { return nil }
    if isASCIINonSpace(first) && isASCIINonSpace(last) { return String(decoding: bytes, as: UTF8.self) }
    return String(decoding: bytes, as: UTF8.self).trimmingXMLWhitespace
}

/// One location path selecting nodes (a mapping rule's records), compiled for a read scope as `XPathFieldSet`
/// compiles its paths. Give it to `XPathDocument.nodes(selectedBy:from:)`.
public struct XPathNodeSelector: Sendable {
    let expression: XPathExpression
    /// The compiled steps, and the scope they are for; nil when the expression is not a path of the subset or
    /// no scope was given (the selection is then `nodes(matching:from:)`'s).
    let steps: [XPathFieldSet.CompiledStep]?
    let isAbsolute: Bool
    let scope: XMLReadScope?

    public init(_ expression: XPathExpression, scope: XMLReadScope? = nil) {
        self.expression = expression
        if let scope, case .path(let path) = expression.subset, let steps = XPathFieldSet.CompiledStep.compile(path, for: scope) {
            self.steps = steps
            isAbsolute = path.isAbsolute
            self.scope = scope
        } else {
            steps = nil
            isAbsolute = false
            self.scope = nil
        }
    }
}

extension XMLTree {
    /// The nodes compiled `steps` select from `context`, in document order, each once (see `Path.select`).
    func select(_ steps: [XPathFieldSet.CompiledStep], from context: TreeNode) -> [TreeNode] {
        var current: [TreeNode] = [context]
        var next: [TreeNode] = []
        nodes.withUnsafeBufferPointer { nodes in
            childPositions.withUnsafeBufferPointer { children in
                nameIndices.withUnsafeBufferPointer { names in
                    for step in steps {
                        next.removeAll(keepingCapacity: true)
                        for node in current {
                            switch (step.kind, node) {
                            case (.child, .document):
                                if step.matches(name: nodes[0].name, namespace: nodes[0].namespace, names: names) {
                                    next.append(.element(0))
                                }
                            case (.child, .element(let position)):
                                let range = nodes[Int(position)].children
                                for child in children[Int(range.lowerBound)..<Int(range.upperBound)]
                                where step.matches(
                                    name: nodes[Int(child)].name, namespace: nodes[Int(child)].namespace, names: names)
                                {
                                    next.append(.element(child))
                                }
                            case (.attribute, .element(let position)):
                                for index in nodes[Int(position)].attributes
                                where step.matches(
                                    name: attributes[Int(index)].name, namespace: attributes[Int(index)].namespace,
                                    names: names)
                                {
                                    next.append(.attribute(element: position, index: index))
                                    break
                                }
                            case (.parent, .element(let position)):
                                let up = nodes[Int(position)].parent
                                let parent: TreeNode = up == XMLTree.noParent ? .document : .element(up)
                                if next.last != parent { next.append(parent) }
                            case (.parent, .attribute(let element, _)):
                                if next.last != .element(element) { next.append(.element(element)) }
                            case (.child, .attribute), (.attribute, .document), (.attribute, .attribute),
                                (.parent, .document):
                                break
                            }
                        }
                        swap(&current, &next)
                        if current.isEmpty { return }
                    }
                }
            }
        }
        return current
    }
}
