import CLibXML2

/// An XSD loaded once and used to validate many documents (loading FHIR's 2.6 MB schema takes ~0.1 s).
///
/// libxml2 allows one compiled schema to be shared by validations on several threads, each with its own
/// validation context, which `validate` creates per call.
public final class XMLSchema: @unchecked Sendable {
    private let schema: xmlSchemaPtr

    /// Loads the schema at `path`; imports and includes are resolved relative to it, never over the network.
    public init(path: String) throws(XMLSchemaError) {
        SafeXMLParser.ensureInitialised()
        let collector = MessageCollector()
        guard let parserContext = xmlSchemaNewParserCtxt(path) else {
            throw XMLSchemaError(messages: ["cannot open schema \(path)"])
        }
        defer { xmlSchemaFreeParserCtxt(parserContext) }
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        xmlSchemaSetParserStructuredErrors(parserContext, collectMessage, unmanaged.toOpaque())
        guard let schema = xmlSchemaParse(parserContext) else {
            throw XMLSchemaError(messages: collector.messages.isEmpty ? ["cannot load schema \(path)"] : collector.messages)
        }
        self.schema = schema
    }

    deinit { xmlSchemaFree(schema) }

    /// Validates a document. Returns the problems found, each with its line; empty when the document is valid.
    /// The document is read without network access and without substituting entities.
    ///
    /// - Parameter element: when given, and the root is not that element, each child of the root that is
    ///   (for example each `ClinicalDocument` in a wrapper holding several) is validated as a document of its own;
    ///   an empty wrapper is valid.
    /// - Parameter charset: the transport's, as `SafeXMLParser.parse` takes it.
    public func validate(
        _ bytes: [UInt8], eachElement element: (name: String, namespace: String)? = nil, charset: String? = nil
    ) -> [String] {
        let encoding: String?
        do {
            encoding = try TransportCharset.encoding(of: bytes, declared: charset)
        } catch {
            return [error.description]
        }
        let collector = MessageCollector()
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }

        let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_NOERROR.rawValue)
            | Int32(XML_PARSE_NOWARNING.rawValue)
        let document = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                xmlReadMemory(pointer, Int32(buffer.count), "document.xml", encoding, options)
            }
        }
        guard let document else { return ["not well-formed XML"] }
        defer { xmlFreeDoc(document) }
        guard document.pointee.intSubset == nil else { return ["DOCTYPE not allowed"] }

        guard let element, let root = xmlDocGetRootElement(document), !Self.node(root, is: element) else {
            return validate(document, collector: collector, unmanaged: unmanaged)
        }
        var messages: [String] = []
        var count = 0
        var others = 0
        var child = root.pointee.children
        while let node = child {
            defer { child = node.pointee.next }
            guard node.pointee.type == XML_ELEMENT_NODE else { continue }
            guard Self.node(node, is: element) else {
                others += 1
                continue
            }
            count += 1
            guard let single = xmlNewDoc("1.0"), let copy = xmlDocCopyNode(node, single, 1) else {
                messages.append("\(element.name) \(count): cannot be copied for validation")
                continue
            }
            defer { xmlFreeDoc(single) }
            xmlDocSetRootElement(single, copy)
            collector.messages = []
            messages += validate(single, collector: collector, unmanaged: unmanaged).map { "\(element.name) \(count), \($0)" }
        }
        // An empty wrapper is an answer with no documents; a wrapper of something else is not.
        if count == 0 && others > 0 { messages.append("no \(element.name) element found") }
        return messages
    }

    private func validate(
        _ document: xmlDocPtr, collector: MessageCollector, unmanaged: Unmanaged<MessageCollector>
    ) -> [String] {
        guard let validation = xmlSchemaNewValidCtxt(schema) else { return ["cannot create a validation context"] }
        defer { xmlSchemaFreeValidCtxt(validation) }
        xmlSchemaSetValidStructuredErrors(validation, collectMessage, unmanaged.toOpaque())
        let result = xmlSchemaValidateDoc(validation, document)
        if result != 0 && collector.messages.isEmpty { return ["invalid (libxml2 code \(result))"] }
        return collector.messages
    }

    private static func node(_ node: xmlNodePtr, is element: (name: String, namespace: String)) -> Bool {
        guard let name = node.pointee.name, String(cString: name) == element.name else { return false }
        let namespace = node.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) }
        return namespace == element.namespace
    }
}

public struct XMLSchemaError: Error, Sendable, CustomStringConvertible {
    public var messages: [String]
    public var description: String { messages.joined(separator: "; ") }
}

private final class MessageCollector {
    var messages: [String] = []
}

private let collectMessage: xmlStructuredErrorFunc = { userData, error in
    guard let userData, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    let collector = Unmanaged<MessageCollector>.fromOpaque(userData).takeUnretainedValue()
    guard collector.messages.count < 50 else { return }
    var message = error.pointee.message.map { String(cString: $0) } ?? "error \(error.pointee.code)"
    while message.last == "\n" { message.removeLast() }
    collector.messages.append("line \(error.pointee.line): \(message)")
}
