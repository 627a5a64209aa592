/// Several expressions read together from each of many context nodes: a mapping rule's fields from each of
/// its records. Give it to `XPathDocument.strings(_:from:)`.
///
/// Each field's string value is exactly what `XPathDocument.string(_:from:)` gives for its expression. What
/// reading them together saves is the work between the tree and the answer: a location path that several
/// fields use (a code's `@display` in both the display and the summary) is walked once per context node, and
/// a field that is a path or a `concat` of paths and literals is made into one String straight from the
/// tree's bytes, not through a String for every part. Any other expression (`substring`, or one outside the
/// subset `XPathSubset` describes) is read on its own, as `string(_:from:)` reads it.
public struct XPathFieldSet: Sendable {
    /// One field, compiled.
    enum Field: Sendable {
        /// No expression: the field is always nil.
        case absent
        /// Read on its own by `XPathDocument.string(_:from:)`.
        case alone(XPathExpression)
        /// The concatenation of these parts' string values: a path alone, a literal alone, or a `concat` of both.
        case parts([Part], XPathExpression)
    }

    enum Part: Sendable {
        case literal([UInt8])
        /// The position of a path in `paths`.
        case path(Int)
    }

    /// Behind one reference, as a rule's field set is handed to every record of every document.
    final class Storage: Sendable {
        let fields: [Field]
        /// Every distinct location path the fields' parts use, each walked at most once per context node.
        let paths: [XPathSubset.Path]

        init(fields: [Field], paths: [XPathSubset.Path]) {
            self.fields = fields
            self.paths = paths
        }
    }

    let storage: Storage

    /// How many fields: as many as expressions given, nil ones included.
    public var count: Int { storage.fields.count }

    /// The fields, in order; a nil expression is a field that is always nil.
    public init(_ expressions: [XPathExpression?]) {
        var paths: [XPathSubset.Path] = []
        var pathPositions: [XPathSubset.Path: Int] = [:]
        func position(of path: XPathSubset.Path) -> Int {
            if let known = pathPositions[path] { return known }
            paths.append(path)
            pathPositions[path] = paths.count - 1
            return paths.count - 1
        }
        func part(_ subset: XPathSubset) -> Part? {
            switch subset {
            case .literal(let text): .literal(Array(text.utf8))
            case .path(let path): .path(position(of: path))
            case .concat, .substring: nil
            }
        }
        let fields = expressions.map { expression -> Field in
            guard let expression else { return .absent }
            switch expression.subset {
            case .literal, .path:
                return part(expression.subset!).map { .parts([$0], expression) } ?? .alone(expression)
            case .concat(let arguments):
                let parts = arguments.compactMap(part)
                return parts.count == arguments.count ? .parts(parts, expression) : .alone(expression)
            case .substring, nil:
                return .alone(expression)
            }
        }
        storage = Storage(fields: fields, paths: paths)
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
    /// What `path`'s first node gives as a string value from `context`.
    func pathValue(_ path: XPathSubset.Path, from context: TreeNode) -> PathValue {
        switch path.first(from: context, in: self) {
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

    /// `bytes` in `range` as a String with surrounding XML white space trimmed; nil when that leaves nothing.
    func trimmedString(_ range: Range<Int32>) -> String? {
        bytes.withUnsafeBufferPointer { all in
            trimmedText(UnsafeBufferPointer(rebasing: all[Int(range.lowerBound)..<Int(range.upperBound)]))
        }
    }
}

/// `bytes` (UTF-8) as a String with surrounding white space trimmed as `trimmingXMLWhitespace` trims it; nil
/// when that leaves nothing. The usual value has nothing to trim and becomes a String in one step.
func trimmedText(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    guard let first = bytes.first, let last = bytes.last else { return nil }
    if isASCIINonSpace(first) && isASCIINonSpace(last) { return String(decoding: bytes, as: UTF8.self) }
    return String(decoding: bytes, as: UTF8.self).trimmingXMLWhitespace
}
