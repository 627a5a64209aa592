import Synchronization

/// The small part of XPath 1.0 that mapping files use, evaluated directly on an `XMLTree` instead of through
/// libxml2's DOM and XPath engine (which cost several times the parse itself).
///
/// The subset, in XPath 1.0's own grammar terms:
/// - location paths, relative or absolute, whose steps are child name tests (`a:Code`, `Code`), the abbreviated
///   parent step `..`, and an attribute name test (`@id`, `@a:id`) as the last step only;
/// - string literals (`'…'`, `"…"`);
/// - `concat(s, s, …)` and `substring(s, n)` / `substring(s, n, n)` of those;
/// - where `substring` wants numbers: digit-only literals, `boolean(path)`, and products of those (`200 * boolean(a)`).
///
/// Anything else (predicates, `//`, wildcards, other functions and operators …) does not parse, and is left to
/// libxml2. `XPathExpression` parses every expression once, when it is made; `XPathDocument` evaluates.
indirect enum XPathSubset: Sendable {
    case literal(String)
    case path(Path)
    case concat([XPathSubset])
    case substring(XPathSubset, start: Number, length: Number?)

    /// A location path.
    struct Path: Sendable, Hashable {
        var isAbsolute: Bool
        var steps: [Step]
    }

    enum Step: Sendable, Hashable {
        case child(Name)
        case attribute(Name)
        case parent
    }

    /// An expanded name: a local name and a namespace URI (nil for none).
    struct Name: Sendable, Hashable {
        var local: String
        var namespace: String?
    }

    /// A numeric expression (XPath numbers are doubles).
    indirect enum Number: Sendable {
        case literal(Double)
        /// `boolean(path)`: 1 when the path selects a node, else 0.
        case boolean(Path)
        case product(Number, Number)
    }

    /// The subset form of `text`, or nil when `text` is outside the subset. `namespaces` resolves prefixes.
    init?(_ text: String, namespaces: [String: String]) {
        var parser = Parser(text: Array(text.utf8), namespaces: namespaces)
        guard let expression = parser.stringExpression(), parser.atEnd else { return nil }
        self = expression
    }
}

extension XPathSubset {
    /// The local names and namespace URIs the expression compares against (see `XMLReadScope.comparedNames`).
    var comparedNames: (names: Set<String>, namespaces: Set<String>) {
        var names = Set<String>()
        var namespaces = Set<String>()
        func add(_ name: Name) {
            names.insert(name.local)
            if let namespace = name.namespace { namespaces.insert(namespace) }
        }
        func add(_ path: Path) {
            for step in path.steps {
                switch step {
                case .child(let name), .attribute(let name): add(name)
                case .parent: break
                }
            }
        }
        func add(_ number: Number) {
            switch number {
            case .literal: break
            case .boolean(let path): add(path)
            case .product(let left, let right):
                add(left)
                add(right)
            }
        }
        func add(_ expression: XPathSubset) {
            switch expression {
            case .literal: break
            case .path(let path): add(path)
            case .concat(let parts): parts.forEach(add)
            case .substring(let string, let start, let length):
                add(string)
                add(start)
                if let length { add(length) }
            }
        }
        add(self)
        return (names, namespaces)
    }
}

extension XPathSubset {
    /// The local names a read scope must keep for this expression to evaluate on a tree as on the whole document
    /// (see `XMLReadScope.reading(selecting:valuing:)`): every element and attribute a path names, and the
    /// elements whose whole subtree it needs, those whose string value it takes (`valued`: the expression's own
    /// paths give strings rather than nodes). Nil when no set of names will do: a string value taken of a path
    /// ending in `..` or of the document itself, whose element no name tells in advance.
    func readNames(valued: Bool) -> (elements: Set<String>, subtrees: Set<String>, attributes: Set<String>)? {
        var elements = Set<String>()
        var subtrees = Set<String>()
        var attributes = Set<String>()
        func add(_ path: Path, valued: Bool) -> Bool {
            for step in path.steps {
                switch step {
                case .child(let name): elements.insert(name.local)
                case .attribute(let name): attributes.insert(name.local)
                case .parent: break
                }
            }
            guard valued else { return true }
            switch path.steps.last {
            case .child(let name):
                subtrees.insert(name.local)
                return true
            case .attribute:
                return true
            case .parent, nil:
                return false
            }
        }
        func add(_ number: Number) -> Bool {
            switch number {
            case .literal: true
            // Only whether the path selects anything: no string value taken.
            case .boolean(let path): add(path, valued: false)
            case .product(let left, let right): add(left) && add(right)
            }
        }
        func add(_ expression: XPathSubset, valued: Bool) -> Bool {
            switch expression {
            case .literal: true
            case .path(let path): add(path, valued: valued)
            case .concat(let parts): parts.allSatisfy { add($0, valued: true) }
            case .substring(let string, let start, let length):
                add(string, valued: true) && add(start) && (length.map(add) ?? true)
            }
        }
        guard add(self, valued: valued) else { return nil }
        return (elements, subtrees, attributes)
    }
}

/// One String for each name and namespace URI any subset expression uses, whichever expression it came from.
///
/// A parse given these same Strings (`XMLReadScope.comparedNames`) puts them in the tree, and comparing a String
/// with itself is a check of two words, where two copies of a long name (a namespace URI) compare byte by byte.
/// Grows only with the expressions made, which come from mapping files.
final class NameStrings: Sendable {
    static let shared = NameStrings()

    private let strings = Mutex<Set<String>>([])

    func intern(_ string: String) -> String {
        strings.withLock { strings in
            if let existing = strings.firstIndex(of: string) { return strings[existing] }
            strings.insert(string)
            return string
        }
    }
}

// MARK: - Parsing

extension XPathSubset {
    /// A recursive-descent parser for the subset over the expression's UTF-8. Returns nil at the first thing
    /// outside the subset; it never has to report errors, as libxml2 has already accepted the expression.
    ///
    /// Names and `*` are only read where XPath's lexical rules make them a name test or an operator
    /// respectively (a name at the start of a step or argument, `*` after a number), so the reading agrees
    /// with XPath's.
    private struct Parser {
        let text: [UInt8]
        let namespaces: [String: String]
        var index = 0

        init(text: [UInt8], namespaces: [String: String]) {
            self.text = text
            self.namespaces = namespaces
        }

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return index == text.count
            }
        }

        // StringExpr := Literal | Path | concat(StringExpr, StringExpr, …) | substring(StringExpr, Num [, Num])
        mutating func stringExpression() -> XPathSubset? {
            skipSpace()
            guard let byte = peek() else { return nil }
            if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") { return literal().map { .literal($0) } }
            let start = index
            if let function = functionName() {
                switch function {
                case "concat":
                    // XPath's concat takes two or more arguments.
                    guard let arguments = arguments(), arguments.count >= 2 else { return nil }
                    return .concat(arguments)
                case "substring":
                    guard let string = stringExpression(), expect(","), let start = number() else { return nil }
                    var length: Number?
                    if consume(",") {
                        guard let number = number() else { return nil }
                        length = number
                    }
                    guard expect(")") else { return nil }
                    return .substring(string, start: start, length: length)
                default:
                    return nil
                }
            }
            index = start
            return path().map { .path($0) }
        }

        /// The arguments of a call whose `(` has been read, through its `)`.
        mutating func arguments() -> [XPathSubset]? {
            var arguments: [XPathSubset] = []
            repeat {
                guard let argument = stringExpression() else { return nil }
                arguments.append(argument)
            } while consume(",")
            return expect(")") ? arguments : nil
        }

        // Num := NumPrimary ('*' NumPrimary)*;  NumPrimary := Digits | boolean(Path)
        mutating func number() -> Number? {
            guard var result = numberPrimary() else { return nil }
            while consume("*") {
                guard let factor = numberPrimary() else { return nil }
                result = .product(result, factor)
            }
            return result
        }

        mutating func numberPrimary() -> Number? {
            skipSpace()
            let start = index
            while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            if index > start {
                // Whole numbers of up to nine digits convert to a double exactly, as libxml2's would; a
                // fraction (`1.5`) stops here and is left to libxml2.
                guard index - start <= 9, peek() != UInt8(ascii: "."),
                    let value = Double(String(decoding: text[start..<index], as: UTF8.self))
                else { return nil }
                return .literal(value)
            }
            guard functionName() == "boolean", let path = path(), expect(")") else { return nil }
            return .boolean(path)
        }

        /// A name followed by `(`, consumed with the `(`; nil (having consumed nothing useful) otherwise.
        mutating func functionName() -> String? {
            skipSpace()
            let start = index
            guard let name = ncName() else { return nil }
            guard consume("(") else {
                index = start
                return nil
            }
            return name
        }

        // Path := '/'? Step ('/' Step)*;  Step := QName | '..' | '@' QName (last)
        mutating func path() -> Path? {
            skipSpace()
            let isAbsolute = consumeRaw("/")
            var steps: [Step] = []
            repeat {
                if consumeRaw("..") {
                    // `...` is not a step.
                    guard peek() != UInt8(ascii: ".") else { return nil }
                    steps.append(.parent)
                } else if consumeRaw("@") {
                    guard let name = qualifiedName() else { return nil }
                    steps.append(.attribute(name))
                } else {
                    guard let name = qualifiedName() else { return nil }
                    // A name followed by `(` is a node type test or function call: not a child step.
                    let afterName = index
                    skipSpace()
                    guard peek() != UInt8(ascii: "(") else { return nil }
                    index = afterName
                    steps.append(.child(name))
                }
                // An attribute has no children or parent steps in the subset: it must be last.
                if case .attribute = steps.last, peek() == UInt8(ascii: "/") { return nil }
            } while consumeRaw("/")
            return Path(isAbsolute: isAbsolute, steps: steps)
        }

        /// `prefix:local` or `local`, with no space inside (XPath's QName is one token); the prefix resolved.
        mutating func qualifiedName() -> Name? {
            guard let first = ncName() else { return nil }
            // `::` (an axis) is outside the subset.
            guard consumeRaw(":") else { return Name(local: NameStrings.shared.intern(first), namespace: nil) }
            guard let local = ncName(), let uri = namespaces[first] else { return nil }
            return Name(local: NameStrings.shared.intern(local), namespace: NameStrings.shared.intern(uri))
        }

        /// An ASCII NCName (letters, digits, `-`, `_`, `.`, starting with a letter or `_`). A non-ASCII name is
        /// left to libxml2 rather than taking on Unicode's name-character tables here.
        mutating func ncName() -> String? {
            let start = index
            guard let first = peek(), Self.isNameStart(first) else { return nil }
            index += 1
            while let byte = peek(), Self.isNameStart(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            {
                index += 1
            }
            // A non-ASCII byte right after means the name goes on in characters not handled here.
            if let next = peek(), next >= 0x80 { return nil }
            return String(decoding: text[start..<index], as: UTF8.self)
        }

        static func isNameStart(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || byte == UInt8(ascii: "_")
        }

        /// A literal: everything up to the matching quote (XPath 1.0 has no escapes).
        mutating func literal() -> String? {
            guard let quote = peek() else { return nil }
            index += 1
            guard let end = text[index...].firstIndex(of: quote) else { return nil }
            let value = String(decoding: text[index..<end], as: UTF8.self)
            index = end + 1
            return value
        }

        func peek() -> UInt8? { index < text.count ? text[index] : nil }

        mutating func skipSpace() {
            while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        /// Consumes `token` after optional white space.
        mutating func consume(_ token: String) -> Bool {
            skipSpace()
            return consumeRaw(token)
        }

        mutating func expect(_ token: String) -> Bool { consume(token) }

        /// Consumes `token` exactly here (inside a path, where XPath allows white space but mapping files never
        /// use it, the subset does not allow it either).
        mutating func consumeRaw(_ token: String) -> Bool {
            let bytes = Array(token.utf8)
            guard index + bytes.count <= text.count, text[index..<index + bytes.count].elementsEqual(bytes) else {
                return false
            }
            index += bytes.count
            return true
        }
    }
}

// MARK: - Evaluation

/// A node of an `XMLTree` as XPath sees it: the document (the root element's parent), an element, or an
/// attribute. Positions are the tree's own, never read from input.
enum TreeNode: Sendable, Equatable {
    case document
    case element(Int32)
    /// `index` is the attribute's position in the tree's `attributes`; `element` is its owner.
    case attribute(element: Int32, index: Int32)
}

extension XPathSubset {
    /// The string value of the expression from `context`, or nil when the tree cannot give it exactly (see
    /// `XMLTree.stringValue(of:)`), in which case the caller asks libxml2.
    func string(from context: TreeNode, in tree: XMLTree) -> String? {
        switch self {
        case .literal(let text):
            return text
        case .path(let path):
            // XPath's string() of a node-set is the string value of its first node in document order; "" if none.
            guard let first = path.first(from: context, in: tree) else { return "" }
            return tree.stringValue(of: first)
        case .concat(let parts):
            var result = ""
            for part in parts {
                guard let text = part.string(from: context, in: tree) else { return nil }
                result += text
            }
            return result
        case .substring(let string, let start, let length):
            guard let text = string.string(from: context, in: tree) else { return nil }
            return Self.substring(
                text, start: start.value(from: context, in: tree), length: length?.value(from: context, in: tree))
        }
    }

    /// XPath's `substring`, exactly as libxml2 (2.9.x, `xmlXPathSubstringFunction`) rounds its arguments:
    /// characters (Unicode scalars) from round(start) to before round(start) + round(length), counting from 1.
    static func substring(_ text: String, start: Double, length: Double?) -> String {
        let limit = Double(Int32.max)
        var first = 1
        if !(start < limit) {
            first = Int(Int32.max)
        } else if start >= 1 {
            first = Int(start)
            if start - start.rounded(.down) >= 0.5 { first += 1 }
        }
        var end = Int(Int32.max)
        if let length {
            var roundedStart = start.rounded(.down)
            if start - roundedStart >= 0.5 { roundedStart += 1 }
            var roundedLength = length.rounded(.down)
            if length - roundedLength >= 0.5 { roundedLength += 1 }
            let sum = roundedStart + roundedLength
            if !(sum >= 1) {
                end = 1
            } else if sum < limit {
                end = Int(sum)
            }
        }
        guard first < end else { return "" }
        return String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(first - 1).prefix(end - first)))
    }
}

extension XPathSubset.Number {
    func value(from context: TreeNode, in tree: XMLTree) -> Double {
        switch self {
        case .literal(let value): value
        case .boolean(let path): path.first(from: context, in: tree) == nil ? 0 : 1
        case .product(let left, let right): left.value(from: context, in: tree) * right.value(from: context, in: tree)
        }
    }
}

extension XPathSubset.Path {
    /// The nodes the path selects from `context`, in document order, each once.
    ///
    /// Every step maps a set of nodes at one depth to a set at one depth (children one deeper, parents one
    /// shallower, an attribute counting as one below its element), and nodes at one depth are never each
    /// other's ancestors. So, taken in document order, children come out in document order and without
    /// repeats; parents come out in order with repeats only next to each other, which are dropped.
    func select(from context: TreeNode, in tree: XMLTree) -> [TreeNode] {
        var current: [TreeNode] = [isAbsolute ? .document : context]
        for step in steps {
            var next: [TreeNode] = []
            for node in current {
                switch step {
                case .child(let name):
                    switch node {
                    case .document:
                        if tree.matches(element: 0, name) { next.append(.element(0)) }
                    case .element(let position):
                        for child in tree.childPositions(of: position) where tree.matches(element: child, name) {
                            next.append(.element(child))
                        }
                    case .attribute:
                        break
                    }
                case .attribute(let name):
                    guard case .element(let position) = node, let index = tree.attribute(of: position, name) else {
                        continue
                    }
                    next.append(.attribute(element: position, index: index))
                case .parent:
                    let parent: TreeNode?
                    switch node {
                    case .document: parent = nil
                    case .element(let position):
                        let up = tree.nodes[Int(position)].parent
                        parent = up == XMLTree.noParent ? .document : .element(up)
                    case .attribute(let element, _): parent = .element(element)
                    }
                    if let parent, next.last != parent { next.append(parent) }
                }
            }
            if next.isEmpty { return [] }
            current = next
        }
        return current
    }
}

extension XPathSubset.Path {
    /// The first node in document order the path selects from `context`, found depth first without building
    /// the node-sets: every step keeps document order (see `select`), so the first candidate at a step that
    /// leads anywhere leads to the first node.
    func first(from context: TreeNode, in tree: XMLTree) -> TreeNode? {
        first(from: isAbsolute ? .document : context, step: 0, in: tree)
    }

    private func first(from node: TreeNode, step: Int, in tree: XMLTree) -> TreeNode? {
        guard step < steps.count else { return node }
        switch steps[step] {
        case .child(let name):
            switch node {
            case .document:
                return tree.matches(element: 0, name) ? first(from: .element(0), step: step + 1, in: tree) : nil
            case .element(let position):
                for child in tree.childPositions(of: position) where tree.matches(element: child, name) {
                    if let found = first(from: .element(child), step: step + 1, in: tree) { return found }
                }
                return nil
            case .attribute:
                return nil
            }
        case .attribute(let name):
            // Always the last step.
            guard case .element(let position) = node, let index = tree.attribute(of: position, name) else {
                return nil
            }
            return .attribute(element: position, index: index)
        case .parent:
            switch node {
            case .document:
                return nil
            case .element(let position):
                let up = tree.nodes[Int(position)].parent
                return first(from: up == XMLTree.noParent ? .document : .element(up), step: step + 1, in: tree)
            case .attribute(let element, _):
                return first(from: .element(element), step: step + 1, in: tree)
            }
        }
    }
}

extension XMLTree {
    /// The element's children's positions, in place (valid while the tree is: read them in its methods).
    func childPositions(of position: Int32) -> UnsafeBufferPointer<Int32> {
        childPositions[nodes[Int(position)].children]
    }

    func matches(element position: Int32, _ name: XPathSubset.Name) -> Bool {
        let node = nodes[Int(position)]
        return string(at: node.name, equals: name.local) && namespace(at: node.namespace, equals: name.namespace)
    }

    /// The position in `attributes` of the element's attribute with this expanded name.
    func attribute(of position: Int32, _ name: XPathSubset.Name) -> Int32? {
        let range = nodes[Int(position)].attributes
        for index in range {
            let attribute = attributes[Int(index)]
            if string(at: attribute.name, equals: name.local)
                && namespace(at: attribute.namespace, equals: name.namespace)
            {
                return index
            }
        }
        return nil
    }

    /// The XPath string value of a node: an attribute's value; the text of an element and all its descendants
    /// in document order; for the document, its root's.
    ///
    /// The tree keeps each element's own text as one run, not where it falls between the element's children,
    /// so when an element with text of its own also has descendants with text (mixed content, or indentation
    /// around children that have text), the order is lost: then this is nil, and the caller asks libxml2.
    func stringValue(of node: TreeNode) -> String? {
        switch node {
        case .attribute(_, let index):
            return string(attributes[Int(index)].value)
        case .document:
            return stringValue(of: .element(0))
        case .element(let position):
            let element = nodes[Int(position)]
            // The usual case: a leaf.
            if element.children.isEmpty { return string(element.text) }
            var bytes: [UInt8] = []
            guard appendStringValue(of: position, to: &bytes) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Appends the element's string value; false when it cannot be known (see `stringValue(of:)`).
    private func appendStringValue(of position: Int32, to bytes: inout [UInt8]) -> Bool {
        let element = nodes[Int(position)]
        if !element.text.isEmpty {
            guard !hasTextBelow(position) else { return false }
            bytes.append(contentsOf: self.bytes[element.text])
            return true
        }
        for child in childPositions(of: position) {
            guard appendStringValue(of: child, to: &bytes) else { return false }
        }
        return true
    }

    private func hasTextBelow(_ position: Int32) -> Bool {
        childPositions(of: position).contains { !nodes[Int($0)].text.isEmpty || hasTextBelow($0) }
    }
}
