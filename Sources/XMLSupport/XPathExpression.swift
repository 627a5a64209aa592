import CLibXML2
import Synchronization

/// An XPath 1.0 expression, checked once and evaluated on many documents, from any number of tasks at once.
///
/// Checked when created, so a mapping file with a bad expression is refused when it is loaded, not on the
/// first patient: libxml2 compiles it (syntax), every namespace prefix it uses must be among `namespaces`,
/// every function must be an XPath 1.0 core function with the right number of arguments, variables are
/// refused, and one evaluation on an empty document catches the type errors libxml2 only finds at run time.
///
/// Only XPath 1.0's core functions exist here: no extension function is ever registered, so no expression can
/// read a file or reach the network (libxml2's XPath has no `document()`; that is XSLT's).
///
/// Unprefixed names match elements in no namespace (XPath 1.0 has no default namespace): give elements in a
/// namespace a prefix in `namespaces` and use it.
public struct XPathExpression: Sendable, Hashable, CustomStringConvertible {
    /// The longest expression accepted, in characters.
    public static let maxLength = 2048

    /// The expression as written.
    public var text: String { storage.text }
    /// Prefix → namespace URI, for the prefixes the expression uses.
    public var namespaces: [String: String] { storage.namespaces }
    /// True when the expression gives a node-set (a path), false for a number, string or boolean.
    /// XPath 1.0 types are static, so this holds for every document.
    public var selectsNodes: Bool { storage.selectsNodes }

    var compiled: CompiledXPathPool { storage.compiled }
    /// The expression's form in the subset `XPathDocument` evaluates itself; nil when it is outside it.
    var subset: XPathSubset? { storage.subset }

    /// Everything behind one reference: a decoder copies expressions for every record it reads (a mapping rule
    /// holds a dozen), and one retain per copy costs far less than one per field.
    private let storage: Storage

    private final class Storage: Sendable {
        let text: String
        let namespaces: [String: String]
        let selectsNodes: Bool
        let compiled: CompiledXPathPool
        let subset: XPathSubset?

        init(
            text: String, namespaces: [String: String], selectsNodes: Bool, compiled: CompiledXPathPool,
            subset: XPathSubset?
        ) {
            self.text = text
            self.namespaces = namespaces
            self.selectsNodes = selectsNodes
            self.compiled = compiled
            self.subset = subset
        }
    }

    public init(_ text: String, namespaces: [String: String] = [:]) throws(XPathError) {
        guard !text.unicodeScalars.allSatisfy(\.properties.isWhitespace), text.count <= Self.maxLength else {
            throw XPathError(expression: text, reason: .badLength)
        }
        for (prefix, uri) in namespaces.sorted(by: { $0.key < $1.key })
        where !XPathNameCheck.isUsablePrefix(prefix) || uri.isEmpty {
            throw XPathError(expression: text, reason: .invalidNamespace(prefix: prefix))
        }
        SafeXMLParser.ensureInitialised()
        let pool = CompiledXPathPool(text: text)
        let first = try pool.compile()
        pool.checkIn(first)
        if let (reason, offset) = XPathNameCheck.problem(in: text, declaredPrefixes: Set(namespaces.keys)) {
            throw XPathError(expression: text, reason: reason, offset: offset)
        }
        // A trial run on an empty document finds the errors libxml2 reports only when evaluating
        // (e.g. `count('x')`), and tells a path from an expression that gives a value.
        let kind: xmlXPathObjectType
        do {
            kind = try XMLDocument.probe.evaluate(text: text, namespaces: namespaces, compiled: pool, from: nil) {
                result in result.pointee.type
            }
        } catch {
            guard case .evaluation(let problem) = error.reason else { throw error }
            throw XPathError(expression: text, reason: .syntax(problem))
        }
        storage = Storage(
            text: text, namespaces: namespaces, selectsNodes: kind == XPATH_NODESET, compiled: pool,
            subset: XPathSubset(text, namespaces: namespaces))
    }

    public var description: String { text }

    /// The local names and namespace URIs the tree evaluates this expression against, for a parse's
    /// `XMLReadScope` (`comparedNames`, `comparedNamespaces`); empty when libxml2 evaluates it.
    public var comparedNames: (names: Set<String>, namespaces: Set<String>) {
        subset?.comparedNames ?? ([], [])
    }

    public static func == (lhs: XPathExpression, rhs: XPathExpression) -> Bool {
        lhs.text == rhs.text && lhs.namespaces == rhs.namespaces
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text)
        hasher.combine(namespaces)
    }
}

/// libxml2's compiled expressions, each used by one evaluation at a time.
///
/// A compiled expression is not safe to share between threads: evaluating a function call caches the looked-up
/// function in the compiled step, a write. So evaluations check one out, and a new one is compiled only when
/// every compiled copy is in use (so there are at most as many as concurrent evaluations ever were).
final class CompiledXPathPool: Sendable {
    let text: String
    private let idle = Mutex<[CompiledXPath]>([])
    private static let maxIdle = 16

    init(text: String) {
        self.text = text
    }

    deinit {
        idle.withLock { compiled in
            for expression in compiled { xmlXPathFreeCompExpr(expression.pointer) }
            compiled.removeAll()
        }
    }

    func checkOut() throws(XPathError) -> CompiledXPath {
        if let compiled = idle.withLock({ $0.popLast() }) { return compiled }
        return try compile()
    }

    func checkIn(_ compiled: CompiledXPath) {
        let kept = idle.withLock { idle in
            guard idle.count < Self.maxIdle else { return false }
            idle.append(compiled)
            return true
        }
        if !kept { xmlXPathFreeCompExpr(compiled.pointer) }
    }

    /// Compiles with a context whose error callback takes libxml2's message, so nothing goes to stderr.
    func compile() throws(XPathError) -> CompiledXPath {
        guard let context = xmlXPathNewContext(nil) else {
            throw XPathError(expression: text, reason: .evaluation("out of memory"))
        }
        defer { xmlXPathFreeContext(context) }
        context.pointee.error = ignoreXPathError
        let compiled = withErrorsSilenced { xmlXPathCtxtCompile(context, text) }
        guard let compiled else {
            let (message, offset) = xpathFailure(context)
            throw XPathError(expression: text, reason: .syntax(message), offset: offset)
        }
        return CompiledXPath(pointer: compiled)
    }
}

/// A libxml2 compiled expression, handed between threads only through `CompiledXPathPool`.
struct CompiledXPath: @unchecked Sendable {
    let pointer: xmlXPathCompExprPtr
}

/// libxml2's deallocator, for the strings it hands over (`xmlFree` is a C global Swift will not read concurrently).
let freeXMLMemory: xmlFreeFunc = {
    var free: xmlFreeFunc?
    xmlMemGet(&free, nil, nil, nil)
    return free!
}()

/// Receives XPath errors so libxml2 does not print them; the error stays in the context's `lastError`.
let ignoreXPathError: xmlStructuredErrorFunc = { _, _ in }

/// Runs `body` with this thread's libxml2 structured error handler set to one that ignores errors, so the
/// few errors libxml2 raises without a context (e.g. a node-set hitting its size limit) never reach stderr.
/// Nothing in `body` may suspend: the handler is per thread.
func withErrorsSilenced<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
    let previousHandler = __xmlStructuredError().pointee
    let previousContext = __xmlStructuredErrorContext().pointee
    xmlSetStructuredErrorFunc(nil, ignoreXPathError)
    defer { xmlSetStructuredErrorFunc(previousContext, previousHandler) }
    return try body()
}

/// libxml2's last XPath error on a context, in words, with its offset in the expression.
func xpathFailure(_ context: xmlXPathContextPtr) -> (String, Int?) {
    let error = context.pointee.lastError
    let code = Int(error.code) - Int(XML_XPATH_EXPRESSION_OK.rawValue)
    let offset = error.str1 != nil ? Int(error.int1) : nil
    guard error.code != 0 else { return ("invalid expression", nil) }
    let message: String =
        switch xmlXPathError(rawValue: UInt32(clamping: max(code, 0))) {
        case XPATH_NUMBER_ERROR: "invalid number"
        case XPATH_UNFINISHED_LITERAL_ERROR: "unfinished literal"
        case XPATH_START_LITERAL_ERROR: "a literal should start here"
        case XPATH_VARIABLE_REF_ERROR: "invalid variable reference"
        case XPATH_UNDEF_VARIABLE_ERROR: "undefined variable"
        case XPATH_INVALID_PREDICATE_ERROR: "invalid predicate"
        case XPATH_EXPR_ERROR: "invalid expression"
        case XPATH_UNCLOSED_ERROR: "missing closing bracket or parenthesis"
        case XPATH_UNKNOWN_FUNC_ERROR: "unknown function"
        case XPATH_INVALID_OPERAND: "invalid operand"
        case XPATH_INVALID_TYPE: "an operation is applied to a value of the wrong type"
        case XPATH_INVALID_ARITY: "wrong number of arguments"
        case XPATH_INVALID_CTXT_SIZE, XPATH_INVALID_CTXT_POSITION, XPATH_INVALID_CTXT: "invalid context"
        case XPATH_MEMORY_ERROR: "out of memory"
        case XPATH_UNDEF_PREFIX_ERROR: "undeclared namespace prefix"
        case XPATH_ENCODING_ERROR: "invalid encoding"
        case XPATH_INVALID_CHAR_ERROR: "invalid character"
        case XPATH_STACK_ERROR: "expression too complex (stack)"
        case XPATH_FORBID_VARIABLE_ERROR: "variables are not allowed"
        case XPATH_OP_LIMIT_EXCEEDED: "operation limit exceeded"
        case XPATH_RECURSION_LIMIT_EXCEEDED: "expression nested too deeply"
        default: error.code == Int32(XML_ERR_NO_MEMORY.rawValue) ? "out of memory" : "invalid expression"
        }
    return (message, offset)
}
