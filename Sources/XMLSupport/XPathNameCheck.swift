/// Checks what libxml2 only finds when (and if) an evaluation reaches it: namespace prefixes, function names,
/// argument counts and variables. libxml2 compiles `b:x`, `concat2(…)` and `concat('a')` without complaint and
/// fails later, or never when the step is not reached; a mapping file should be refused when it is loaded.
///
/// A small XPath 1.0 tokenizer (XPath 1.0 §3.7, including its rule that tells the operator names `and`, `or`,
/// `div`, `mod` and the multiply `*` from name tests). It assumes libxml2 has already accepted the syntax.
enum XPathNameCheck {
    /// XPath 1.0 core functions and their argument counts. Nothing else is callable: no extension function
    /// (no `document()`, nothing that could reach a file or the network) is ever registered.
    static let coreFunctions: [String: ClosedRange<Int>] = [
        "last": 0...0, "position": 0...0, "count": 1...1, "id": 1...1, "local-name": 0...1,
        "namespace-uri": 0...1, "name": 0...1, "string": 0...1, "concat": 2...Int.max, "starts-with": 2...2,
        "contains": 2...2, "substring-before": 2...2, "substring-after": 2...2, "substring": 2...3,
        "string-length": 0...1, "normalize-space": 0...1, "translate": 3...3, "boolean": 1...1, "not": 1...1,
        "true": 0...0, "false": 0...0, "lang": 1...1, "number": 0...1, "sum": 1...1, "floor": 1...1,
        "ceiling": 1...1, "round": 1...1,
    ]

    /// Node type tests look like function calls.
    static let nodeTypes: [String: ClosedRange<Int>] = [
        "node": 0...0, "text": 0...0, "comment": 0...0, "processing-instruction": 0...1,
    ]

    private struct Group {
        /// The function or node type whose arguments these are; nil for `( … )` and `[ … ]`.
        var function: String?
        var arity: ClosedRange<Int> = 0...0
        var commas = 0
        var hasContent = false
    }

    /// Returns the first problem, with its offset, or nil.
    static func problem(in text: String, declaredPrefixes: Set<String>) -> (XPathError.Reason, Int)? {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        // True where XPath 1.0 §3.7 says a name is a name (not an operator) and `*` is a name test.
        var expectingOperand = true
        var groups: [Group] = [Group()]

        func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }
        func markContent() { groups[groups.count - 1].hasContent = true }
        func readName() -> String {
            let start = index
            while let scalar = peek(), isNameCharacter(scalar) { index += 1 }
            return String(String.UnicodeScalarView(scalars[start..<index]))
        }

        while index < scalars.count {
            let scalar = scalars[index]
            let start = index
            switch scalar {
            case " ", "\t", "\n", "\r":
                index += 1
            case "\"", "'":
                index += 1
                while let next = peek(), next != scalar { index += 1 }
                index += 1
                markContent()
                expectingOperand = false
            case "0"..."9":
                while let next = peek(), ("0"..."9").contains(next) || next == "." { index += 1 }
                markContent()
                expectingOperand = false
            case ".":
                index += 1
                while let next = peek(), ("0"..."9").contains(next) || next == "." { index += 1 }
                markContent()
                expectingOperand = false
            case "@":
                index += 1
                markContent()
                expectingOperand = true
            case "$":
                return (.variablesNotSupported, start)
            case "(", "[":
                markContent()
                groups.append(Group())
                index += 1
                expectingOperand = true
            case ")", "]":
                index += 1
                expectingOperand = false
                guard groups.count > 1 else { continue }
                let group = groups.removeLast()
                if let function = group.function {
                    let given = group.hasContent ? group.commas + 1 : 0
                    if !group.arity.contains(given) {
                        let expected = describe(group.arity)
                        return (.wrongArgumentCount(function: function, expected: expected, given: given), start)
                    }
                }
            case ",":
                groups[groups.count - 1].commas += 1
                index += 1
                expectingOperand = true
            case "*":
                index += 1
                if expectingOperand { markContent() }
                expectingOperand = !expectingOperand
            case "/", "|", "+", "-", "=", "!", "<", ">":
                index += 1
                markContent()
                expectingOperand = true
            case ":":
                // `::` after an axis name is consumed with the name; anything else here is libxml2's to refuse.
                index += 1
                expectingOperand = true
            default:
                guard isNameStart(scalar) else {
                    index += 1
                    continue
                }
                let first = readName()
                var prefix: String?
                var local = first
                if peek() == ":", peek(1) == ":" {
                    // An axis name (`child::`, `attribute::`).
                    index += 2
                    markContent()
                    expectingOperand = true
                    continue
                } else if peek() == ":", peek(1) == "*" {
                    index += 2
                    prefix = first
                    local = "*"
                } else if peek() == ":", let next = peek(1), isNameStart(next) {
                    index += 1
                    prefix = first
                    local = readName()
                }
                if !expectingOperand && prefix == nil {
                    // An operator name: and, or, div, mod.
                    expectingOperand = true
                    continue
                }
                markContent()
                var lookahead = index
                while lookahead < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[lookahead]) { lookahead += 1 }
                if lookahead < scalars.count, scalars[lookahead] == "(", local != "*" {
                    if let prefix { return (.unknownFunction("\(prefix):\(local)"), start) }
                    guard let arity = coreFunctions[local] ?? nodeTypes[local] else {
                        return (.unknownFunction(local), start)
                    }
                    index = lookahead + 1
                    groups.append(Group(function: local, arity: arity))
                    expectingOperand = true
                    continue
                }
                if let prefix, prefix != "xml", !declaredPrefixes.contains(prefix) {
                    return (.undeclaredPrefix(prefix), start)
                }
                expectingOperand = false
            }
        }
        return nil
    }

    private static func describe(_ arity: ClosedRange<Int>) -> String {
        if arity.upperBound == Int.max { return "\(arity.lowerBound) or more" }
        if arity.lowerBound == arity.upperBound { return "\(arity.lowerBound)" }
        return "\(arity.lowerBound) to \(arity.upperBound)"
    }

    static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar.value > 0x7F
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isNameStart(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "."
    }

    /// True for a usable namespace prefix: an NCName, and not `xml` or `xmlns`, which are reserved.
    static func isUsablePrefix(_ prefix: String) -> Bool {
        guard let first = prefix.unicodeScalars.first, isNameStart(first),
            prefix.unicodeScalars.allSatisfy(isNameCharacter)
        else { return false }
        return prefix != "xml" && prefix != "xmlns"
    }
}
