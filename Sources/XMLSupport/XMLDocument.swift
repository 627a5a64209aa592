import CLibXML2
import Synchronization

/// A parsed XML document held as libxml2's tree, for XPath (see `nodes(matching:from:)` and `string(_:from:)`).
///
/// Parsed with the same safety as `SafeXMLParser`: the size cap is checked before anything is read; no network
/// access; a `<!DOCTYPE` stops the parse as soon as it is seen, before anything in it is processed, so no
/// external entity is ever resolved, no entity declared and none expanded; nesting deeper than the cap is
/// refused as it is parsed; invalid UTF-8 is refused; libxml2's errors go to a handler, never to stderr.
///
/// Immutable once parsed (the initialiser numbers the elements for fast document-order sorting; nothing writes
/// to the tree after that), so it is `Sendable`: any number of tasks may evaluate expressions on one document
/// at once. Use it for one provider response; it is freed when the last reference (including any `XMLNode`
/// taken from it) goes away.
public final class XMLDocument: @unchecked Sendable {
    let pointer: xmlDocPtr
    /// XPath contexts, each used by one evaluation at a time. Creating one registers every core function in a
    /// new hash table, which costs more than evaluating a field on a small document, so they are kept, and
    /// shared by all documents: an evaluation points the context it checks out at its own document and node.
    private static let contexts = Mutex<[XPathContextHandle]>([])
    private static let maxIdleContexts = 16

    /// Parses `bytes`, refusing what `XMLParseLimits` and the rules above refuse. `charset`: the transport's, as
    /// `SafeXMLParser.parse` takes it.
    public init(parsing bytes: [UInt8], limits: XMLParseLimits = XMLParseLimits(), charset: String? = nil)
        throws(XMLParseError)
    {
        guard bytes.count <= limits.maxBytes else { throw XMLParseError(.tooLarge(limit: limits.maxBytes)) }
        guard bytes.count <= Int(Int32.max) else { throw XMLParseError(.tooLarge(limit: Int(Int32.max))) }
        guard bytes.contains(where: { !Self.isXMLWhitespace($0) }) else { throw XMLParseError(.empty) }
        let encoding = try TransportCharset.encoding(of: bytes, declared: charset)
        SafeXMLParser.ensureInitialised()
        pointer = try Self.parse(bytes, limits: limits, encoding: encoding)
        // Stores each element's document position in the tree, once, so XPath sorts node-sets in document order
        // without walking the tree each time. After this the tree is only read.
        xmlXPathOrderDocElems(pointer)
    }

    /// Adopts a tree built in code (the probe document).
    private init(adopting pointer: xmlDocPtr) {
        self.pointer = pointer
    }

    deinit {
        xmlFreeDoc(pointer)
    }

    /// The root element.
    public var root: XMLNode {
        // A parse that succeeds always has one (an empty document is refused).
        XMLNode(document: self, pointer: xmlDocGetRootElement(pointer)!)
    }

    /// The document node, as the context for absolute expressions.
    var documentNode: xmlNodePtr { xmlNodePtr(OpaquePointer(pointer)) }

    /// An empty document (`<_/>`) on which every new expression is tried once.
    static let probe: XMLDocument = {
        SafeXMLParser.ensureInitialised()
        let document = xmlNewDoc("1.0")!
        xmlDocSetRootElement(document, xmlNewDocNode(document, nil, "_", nil))
        return XMLDocument(adopting: document)
    }()

    private static func isXMLWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    // MARK: - XPath contexts

    /// A context pointed at this document (the caller sets the context node).
    func checkOutContext() throws(XPathError) -> XPathContextHandle {
        if let context = Self.contexts.withLock({ $0.popLast() }) {
            context.pointer.pointee.doc = pointer
            return context
        }
        guard let context = xmlXPathNewContext(pointer) else {
            throw XPathError(expression: "", reason: .evaluation("out of memory"))
        }
        context.pointee.error = ignoreXPathError
        return XPathContextHandle(pointer: context, namespaces: [:])
    }

    func checkIn(_ context: XPathContextHandle) {
        // An idle context must not point into a document that may be freed before its next use.
        context.pointer.pointee.doc = nil
        context.pointer.pointee.node = nil
        let kept = Self.contexts.withLock { contexts in
            guard contexts.count < Self.maxIdleContexts else { return false }
            contexts.append(context)
            return true
        }
        if !kept { xmlXPathFreeContext(context.pointer) }
    }
}

/// A libxml2 XPath context, handed between threads only through `XMLDocument`'s pool.
struct XPathContextHandle: @unchecked Sendable {
    let pointer: xmlXPathContextPtr
    /// The namespaces registered on it now, so that consecutive evaluations with the same map skip registering.
    var namespaces: [String: String]
}

// MARK: - Parsing

extension XMLDocument {
    private static func parse(_ bytes: [UInt8], limits: XMLParseLimits, encoding: String?) throws(XMLParseError)
        -> xmlDocPtr
    {
        let state = DocumentParseState(limits: limits)
        let result: Result<xmlDocPtr, XMLParseError> = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { start in
                withExtendedLifetime(state) { parse(start, count: buffer.count, encoding: encoding, state: state) }
            }
        }
        return try result.get()
    }

    private static func parse(
        _ start: UnsafePointer<CChar>, count: Int, encoding: String?, state: DocumentParseState
    ) -> Result<xmlDocPtr, XMLParseError> {
        guard let context = xmlCreateMemoryParserCtxt(start, Int32(count)) else {
            return .failure(XMLParseError(.malformed, detail: "parser could not be created"))
        }
        defer { xmlFreeParserCtxt(context) }
        if let encoding {
            // `TransportCharset` checked that the handler exists; it belongs to the parser's input from here, and
            // is freed with it.
            guard let handler = xmlFindCharEncodingHandler(encoding), xmlSwitchToEncoding(context, handler) == 0 else {
                return .failure(XMLParseError(.unsupportedCharset, detail: "charset \(encoding)"))
            }
        }
        // Options first: they reset some handler fields, which are then set below.
        let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_NOERROR.rawValue)
            | Int32(XML_PARSE_NOWARNING.rawValue) | Int32(XML_PARSE_COMPACT.rawValue)
            | Int32(XML_PARSE_BIG_LINES.rawValue)
        xmlCtxtUseOptions(context, options)
        // Explicitly off, whatever libxml2's process-wide defaults have been set to by anyone else.
        context.pointee.replaceEntities = 0
        context.pointee.loadsubset = 0
        context.pointee.validate = 0
        context.pointee._private = Unmanaged.passUnretained(state).toOpaque()

        // The tree is built by libxml2's own SAX2 handlers; these replace the ones that would read a DTD, and
        // wrap the element ones to count depth. The callbacks receive `context` as their user data.
        let sax = context.pointee.sax!
        sax.pointee.internalSubset = refuseDoctype
        sax.pointee.externalSubset = refuseDoctype
        sax.pointee.entityDecl = refuseEntityDeclaration
        sax.pointee.resolveEntity = refuseEntityResolution
        sax.pointee.startElementNs = startElementCountingDepth
        sax.pointee.endElementNs = endElementCountingDepth
        sax.pointee.serror = recordParseError

        let status = withErrorsSilenced { xmlParseDocument(context) }
        let document = context.pointee.myDoc
        context.pointee.myDoc = nil
        let line = Int(xmlSAX2GetLineNumber(context))
        let wellFormed = status == 0 && context.pointee.wellFormed != 0 && context.pointee.nsWellFormed != 0
        if let failure = state.failure {
            if let document { xmlFreeDoc(document) }
            return .failure(failure)
        }
        guard wellFormed, let document else {
            if let document { xmlFreeDoc(document) }
            return .failure(XMLParseError(.malformed, line: line))
        }
        guard document.pointee.intSubset == nil, document.pointee.extSubset == nil else {
            xmlFreeDoc(document)
            return .failure(XMLParseError(.doctypeForbidden, line: line))
        }
        guard xmlDocGetRootElement(document) != nil else {
            xmlFreeDoc(document)
            return .failure(XMLParseError(.empty))
        }
        return .success(document)
    }
}

/// What the callbacks of one parse share. Lives only for that parse, on one thread.
private final class DocumentParseState {
    let limits: XMLParseLimits
    var depth = 0
    var failure: XMLParseError?

    init(limits: XMLParseLimits) {
        self.limits = limits
    }
}

/// libxml2's own nesting limit without XML_PARSE_HUGE, which is never set (`xmlParserMaxDepth`).
private let libxml2MaxDepth = 256

/// The parser context (every callback's user data) and the parse's state.
@inline(__always)
private func parse(_ userData: UnsafeMutableRawPointer?) -> (xmlParserCtxtPtr, DocumentParseState) {
    let context = userData!.assumingMemoryBound(to: xmlParserCtxt.self)
    return (context, Unmanaged<DocumentParseState>.fromOpaque(context.pointee._private).takeUnretainedValue())
}

private func fail(_ userData: UnsafeMutableRawPointer?, _ error: XMLParseError) {
    let (context, state) = parse(userData)
    if state.failure == nil { state.failure = error }
    xmlStopParser(context)
}

private let refuseDoctype: internalSubsetSAXFunc = { userData, _, _, _ in
    let (context, _) = parse(userData)
    fail(userData, XMLParseError(.doctypeForbidden, line: Int(xmlSAX2GetLineNumber(context))))
}

private let refuseEntityDeclaration: entityDeclSAXFunc = { userData, _, _, _, _, _ in
    let (context, _) = parse(userData)
    fail(userData, XMLParseError(.doctypeForbidden, line: Int(xmlSAX2GetLineNumber(context))))
}

private let refuseEntityResolution: resolveEntitySAXFunc = { userData, _, _ in
    let (context, _) = parse(userData)
    fail(userData, XMLParseError(.doctypeForbidden, line: Int(xmlSAX2GetLineNumber(context))))
    return nil
}

private let startElementCountingDepth: startElementNsSAX2Func = {
    userData, localName, prefix, uri, namespaceCount, namespaces, attributeCount, defaultedCount, attributes in
    let (context, state) = parse(userData)
    guard state.failure == nil else { return }
    state.depth += 1
    guard state.depth <= state.limits.maxDepth else {
        fail(
            userData,
            XMLParseError(.tooDeep(limit: state.limits.maxDepth), line: Int(xmlSAX2GetLineNumber(context))))
        return
    }
    xmlSAX2StartElementNs(
        userData, localName, prefix, uri, namespaceCount, namespaces, attributeCount, defaultedCount, attributes)
}

private let endElementCountingDepth: endElementNsSAX2Func = { userData, localName, prefix, uri in
    let (_, state) = parse(userData)
    guard state.failure == nil else { return }
    state.depth -= 1
    xmlSAX2EndElementNs(userData, localName, prefix, uri)
}

private let recordParseError: xmlStructuredErrorFunc = { userData, error in
    guard let userData, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    let (_, state) = parse(userData)
    guard state.failure == nil else { return }
    var failure = XMLParseError(libxml2: error)
    // libxml2 stops at its own nesting limit before the callback sees a deeper element.
    if error.pointee.code == Int32(XML_ERR_INTERNAL_ERROR.rawValue), state.depth >= libxml2MaxDepth {
        failure.reason = .tooDeep(limit: min(state.limits.maxDepth, libxml2MaxDepth))
    }
    fail(userData, failure)
}
