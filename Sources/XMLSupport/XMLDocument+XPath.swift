import CLibXML2

extension XMLDocument {
    /// The most steps (operations and nodes visited) one evaluation may take, after which it fails with
    /// "operation limit exceeded". Enough for any sensible path over a maximum-size document (`//x` over
    /// 16 MB of XML takes a few million), not enough for `//*[count(//*) > 0]` to run for minutes.
    public static let xpathOperationLimit: UInt = 20_000_000

    /// The nodes `expression` selects, in document order, evaluated from `node` (the document when nil).
    ///
    /// Namespace nodes (`namespace::*`) are left out: libxml2 makes them per evaluation, so they cannot outlive it.
    /// Throws when the expression gives a value rather than nodes, when `node` is from another document, or when
    /// evaluation fails (a limit exceeded).
    public func nodes(matching expression: XPathExpression, from node: XMLNode? = nil) throws(XPathError) -> [XMLNode] {
        let nodes: [XMLNode]? = try evaluate(expression, from: node) { result in
            guard result.pointee.type == XPATH_NODESET else { return nil }
            guard let set = result.pointee.nodesetval, set.pointee.nodeNr > 0, let table = set.pointee.nodeTab else {
                return []
            }
            var nodes: [XMLNode] = []
            nodes.reserveCapacity(Int(set.pointee.nodeNr))
            for index in 0..<Int(set.pointee.nodeNr) {
                guard let found = table[index], found.pointee.type != XML_NAMESPACE_DECL else { continue }
                nodes.append(XMLNode(document: self, pointer: found))
            }
            return nodes
        }
        guard let nodes else { throw XPathError(expression: expression.text, reason: .notANodeSet) }
        return nodes
    }

    /// The XPath string value of `expression` evaluated from `node` (the document when nil), with surrounding
    /// whitespace trimmed; nil when that leaves nothing. For a path, that is the text of the first node selected.
    public func string(_ expression: XPathExpression, from node: XMLNode? = nil) throws(XPathError) -> String? {
        let text: String = try evaluate(expression, from: node) { result in
            guard let characters = xmlXPathCastToString(result) else { return "" }
            defer { freeXMLMemory(characters) }
            return String(cString: characters)
        }
        return text.trimmingXMLWhitespace
    }

    /// Evaluates on a context checked out of this document's pool, with a compiled copy checked out of the
    /// expression's, and hands libxml2's result to `body` (which must not keep it).
    func evaluate<Output>(
        _ expression: XPathExpression, from node: XMLNode?, _ body: (xmlXPathObjectPtr) -> Output
    ) throws(XPathError) -> Output {
        try evaluate(
            text: expression.text, namespaces: expression.namespaces, compiled: expression.compiled, from: node, body)
    }

    func evaluate<Output>(
        text: String, namespaces: [String: String], compiled pool: CompiledXPathPool, from node: XMLNode?,
        _ body: (xmlXPathObjectPtr) -> Output
    ) throws(XPathError) -> Output {
        let contextNode: xmlNodePtr
        if let node {
            guard node.document === self else { throw XPathError(expression: text, reason: .foreignNode) }
            contextNode = node.pointer
        } else {
            contextNode = documentNode
        }
        var context = try checkOutContext()
        defer { checkIn(context) }
        let compiled = try pool.checkOut()
        defer { pool.checkIn(compiled) }

        let xpath = context.pointer
        if context.namespaces != namespaces {
            xmlXPathRegisteredNsCleanup(xpath)
            for (prefix, uri) in namespaces { xmlXPathRegisterNs(xpath, prefix, uri) }
            context.namespaces = namespaces
        }
        xpath.pointee.node = contextNode
        xpath.pointee.contextSize = -1
        xpath.pointee.proximityPosition = -1
        xpath.pointee.opLimit = Self.xpathOperationLimit
        xpath.pointee.opCount = 0
        xpath.pointee.depth = 0
        xmlResetError(&xpath.pointee.lastError)

        let result = withErrorsSilenced { xmlXPathCompiledEval(compiled.pointer, xpath) }
        guard let result else {
            let (message, _) = xpathFailure(xpath)
            throw XPathError(expression: text, reason: .evaluation(message))
        }
        defer { xmlXPathFreeObject(result) }
        return body(result)
    }
}

extension String {
    /// The text without leading and trailing whitespace; nil when nothing else is left.
    var trimmingXMLWhitespace: String? {
        // Fast path for the usual value with nothing to trim (see `isASCIINonSpace`).
        if let first = utf8.first, let last = utf8.last, isASCIINonSpace(first), isASCIINonSpace(last) { return self }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return nil }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}

/// True for an ASCII byte that is not white space. A value whose first and last bytes are such has nothing to
/// trim: they are its first and last scalars, and in ASCII only tab to carriage return and space are white space.
@inline(__always)
func isASCIINonSpace(_ byte: UInt8) -> Bool {
    byte < 0x80 && byte != 0x20 && !(0x09...0x0D).contains(byte)
}
