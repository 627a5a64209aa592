/// Why an XPath expression was refused, or why evaluating one failed.
///
/// Expressions come from configuration (mapping files), not from documents, so the description names the
/// expression to help whoever wrote it; it never contains anything from a document being evaluated.
public struct XPathError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// Not XPath 1.0 as libxml2 reads it; the text is libxml2's kind of error, in words.
        case syntax(String)
        /// A name test or function uses a prefix that was not declared with the expression.
        case undeclaredPrefix(String)
        /// A function that is not in XPath 1.0's core library (extension functions are never available).
        case unknownFunction(String)
        /// A core function called with the wrong number of arguments.
        case wrongArgumentCount(function: String, expected: String, given: Int)
        /// `$name`: no variables are ever bound.
        case variablesNotSupported
        /// A namespace declared with the expression is unusable (the prefix is not an NCName, or the URI is empty).
        case invalidNamespace(prefix: String)
        /// The expression text is empty or longer than `XPathExpression.maxLength`.
        case badLength
        /// Evaluation failed: a limit was exceeded, or the expression applies an operation to the wrong type.
        case evaluation(String)
        /// The expression gives a number, string or boolean where nodes were asked for.
        case notANodeSet
        /// The context node belongs to another document.
        case foreignNode
    }

    /// The expression as written.
    public var expression: String
    public var reason: Reason
    /// Offset in the expression (in Unicode scalars) where the problem was found, when known.
    public var offset: Int?

    public init(expression: String, reason: Reason, offset: Int? = nil) {
        self.expression = expression
        self.reason = reason
        self.offset = offset
    }

    /// True when the expression itself is wrong (as opposed to one evaluation of it failing).
    public var isCompileError: Bool {
        switch reason {
        case .evaluation, .notANodeSet, .foreignNode: false
        default: true
        }
    }

    public var description: String {
        let problem: String
        switch reason {
        case .syntax(let text): problem = text
        case .undeclaredPrefix(let prefix): problem = "undeclared namespace prefix '\(prefix)'"
        case .unknownFunction(let name):
            problem = "unknown function '\(name)' (only XPath 1.0 core functions are available)"
        case .wrongArgumentCount(let function, let expected, let given):
            problem = "\(function)() takes \(expected) argument\(expected == "1" ? "" : "s"), given \(given)"
        case .variablesNotSupported: problem = "variables ($name) are not supported"
        case .invalidNamespace(let prefix): problem = "namespace prefix '\(Self.capped(prefix, to: 40))' is not usable"
        case .badLength: problem = "expression must have 1–\(XPathExpression.maxLength) characters"
        case .evaluation(let text): problem = text
        case .notANodeSet: problem = "does not select nodes (it gives a number, string or boolean)"
        case .foreignNode: problem = "the context node belongs to another document"
        }
        let at = offset.map { " at offset \($0)" } ?? ""
        let verb = isCompileError ? "does not compile" : "evaluation failed"
        return "XPath \(verb): \(problem)\(at) in '\(Self.capped(expression, to: 200))'"
    }

    private static func capped(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : text.prefix(limit) + "…"
    }
}
