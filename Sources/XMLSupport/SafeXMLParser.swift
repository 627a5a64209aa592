import CLibXML2

/// Limits a parse enforces. The defaults suit one provider's response for one patient.
public struct XMLParseLimits: Sendable, Equatable {
    /// Largest document accepted, in bytes.
    public var maxBytes: Int
    /// Deepest element nesting accepted (the root is depth 1).
    public var maxDepth: Int

    public init(maxBytes: Int = 16 * 1024 * 1024, maxDepth: Int = 128) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }
}

/// Parses untrusted XML into an `XMLElement` tree with libxml2's SAX2 interface, safely:
/// no network access, no DTD (a `<!DOCTYPE` stops the parse, so no external entity is ever resolved and no
/// entity is ever expanded), and caps on size and depth checked as the parse goes.
public enum SafeXMLParser {
    /// Subtrees in these namespaces are skipped rather than built (e.g. FHIR's XHTML narrative), which saves
    /// time and memory when a decoder will not read them.
    public static func parse(
        _ bytes: [UInt8], limits: XMLParseLimits = XMLParseLimits(), skippingNamespaces: Set<String> = []
    ) throws(XMLParseError) -> XMLElement {
        guard bytes.count <= limits.maxBytes else { throw XMLParseError(.tooLarge(limit: limits.maxBytes)) }
        guard bytes.contains(where: { !isXMLWhitespace($0) }) else { throw XMLParseError(.empty) }
        ensureInitialised()

        let builder = TreeBuilder(limits: limits, skippingNamespaces: skippingNamespaces)
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.startElementNs = onStartElement
        handler.endElementNs = onEndElement
        handler.characters = onCharacters
        handler.cdataBlock = onCharacters
        handler.internalSubset = onDoctype
        handler.externalSubset = onDoctype
        handler.entityDecl = onEntityDeclaration
        handler.serror = onError

        let unmanaged = Unmanaged.passRetained(builder)
        defer { unmanaged.release() }
        guard let context = xmlCreatePushParserCtxt(&handler, unmanaged.toOpaque(), nil, 0, nil) else {
            throw XMLParseError(.malformed, detail: "parser could not be created")
        }
        defer { xmlFreeParserCtxt(context) }
        builder.context = context
        let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_NOERROR.rawValue)
            | Int32(XML_PARSE_NOWARNING.rawValue) | Int32(XML_PARSE_NOXINCNODE.rawValue)
        xmlCtxtUseOptions(context, options)

        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                xmlParseChunk(context, pointer, Int32(buffer.count), 1)
            }
        }
        if let failure = builder.failure { throw failure }
        guard status == 0, context.pointee.wellFormed != 0 else {
            throw XMLParseError(.malformed, line: Int(xmlSAX2GetLineNumber(context)))
        }
        guard let root = builder.root else { throw XMLParseError(.empty) }
        return root
    }

    /// libxml2's global initialisation is not thread-safe; do it once, before any concurrent parse.
    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    static func ensureInitialised() { _ = initialised }

    private static func isXMLWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// Collects SAX events into a tree. Lives only for one parse, on one thread.
private final class TreeBuilder {
    let limits: XMLParseLimits
    let skippingNamespaces: Set<String>
    var context: xmlParserCtxtPtr?
    var stack: [XMLElement] = []
    var root: XMLElement?
    var failure: XMLParseError?
    /// Depth inside a skipped subtree (0 when not skipping).
    var skipDepth = 0

    init(limits: XMLParseLimits, skippingNamespaces: Set<String>) {
        self.limits = limits
        self.skippingNamespaces = skippingNamespaces
        stack.reserveCapacity(32)
    }

    var line: Int { context.map { Int(xmlSAX2GetLineNumber($0)) } ?? 0 }

    func fail(_ error: XMLParseError) {
        if failure == nil { failure = error }
        if let context { xmlStopParser(context) }
    }
}

@inline(__always)
private func builder(_ pointer: UnsafeMutableRawPointer?) -> TreeBuilder {
    Unmanaged<TreeBuilder>.fromOpaque(pointer!).takeUnretainedValue()
}

@inline(__always)
private func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
    pointer.map { String(cString: $0) }
}

private let onStartElement: startElementNsSAX2Func = {
    userData, localName, _, uri, _, _, attributeCount, _, attributes in
    let builder = builder(userData)
    if builder.failure != nil { return }
    if builder.skipDepth > 0 {
        builder.skipDepth += 1
        return
    }
    let namespace = string(uri)
    if let namespace, builder.skippingNamespaces.contains(namespace) {
        builder.skipDepth = 1
        return
    }
    guard builder.stack.count < builder.limits.maxDepth else {
        builder.fail(XMLParseError(.tooDeep(limit: builder.limits.maxDepth), line: builder.line))
        return
    }
    var element = XMLElement(name: string(localName) ?? "", namespace: namespace, line: builder.line)
    if attributeCount > 0, let attributes {
        element.attributes.reserveCapacity(Int(attributeCount))
        for index in 0..<Int(attributeCount) {
            let base = index * 5
            guard let name = attributes[base], let start = attributes[base + 3], let end = attributes[base + 4] else {
                continue
            }
            let length = end - start
            let raw = String(decoding: UnsafeBufferPointer(start: start, count: max(0, length)), as: UTF8.self)
            element.attributes.append(
                XMLAttribute(
                    name: String(cString: name), namespace: string(attributes[base + 2]),
                    value: decodeCharacterReferences(raw)))
        }
    }
    builder.stack.append(element)
}

private let onEndElement: endElementNsSAX2Func = { userData, _, _, _ in
    let builder = builder(userData)
    if builder.failure != nil { return }
    if builder.skipDepth > 0 {
        builder.skipDepth -= 1
        return
    }
    guard let element = builder.stack.popLast() else { return }
    if builder.stack.isEmpty {
        builder.root = element
    } else {
        builder.stack[builder.stack.count - 1].children.append(element)
    }
}

private let onCharacters: charactersSAXFunc = { userData, characters, length in
    let builder = builder(userData)
    guard builder.failure == nil, builder.skipDepth == 0, !builder.stack.isEmpty, let characters, length > 0
    else { return }
    let text = String(decoding: UnsafeBufferPointer(start: characters, count: Int(length)), as: UTF8.self)
    builder.stack[builder.stack.count - 1].text += text
}

private let onDoctype: internalSubsetSAXFunc = { userData, _, _, _ in
    let builder = builder(userData)
    builder.fail(XMLParseError(.doctypeForbidden, line: builder.line))
}

private let onEntityDeclaration: entityDeclSAXFunc = { userData, _, _, _, _, _ in
    let builder = builder(userData)
    builder.fail(XMLParseError(.doctypeForbidden, line: builder.line))
}

private let onError: xmlStructuredErrorFunc = { userData, error in
    guard let userData, let error else { return }
    let builder = builder(userData)
    guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue, builder.failure == nil else { return }
    builder.failure = XMLParseError(libxml2: error)
    if let context = builder.context { xmlStopParser(context) }
}

/// SAX2 without entity substitution hands `&amp;` inside attribute values over as the text `&#38;`
/// (and likewise `&lt;`, `&gt;`, `&quot;`, `&apos;`). Decode numeric character references here instead of
/// turning on entity substitution, which would open the door to XXE and expansion bombs.
func decodeCharacterReferences(_ value: String) -> String {
    guard value.utf8.contains(UInt8(ascii: "&")) else { return value }
    var output = String.UnicodeScalarView()
    let scalars = Array(value.unicodeScalars)
    var index = 0
    while index < scalars.count {
        let scalar = scalars[index]
        if scalar == "&", index + 2 < scalars.count, scalars[index + 1] == "#",
            let semicolon = scalars[(index + 2)...].prefix(10).firstIndex(of: ";")
        {
            let digits = String(String.UnicodeScalarView(scalars[(index + 2)..<semicolon]))
            let number: UInt32? =
                digits.hasPrefix("x") || digits.hasPrefix("X")
                ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            if let number, let decoded = Unicode.Scalar(number) {
                output.append(decoded)
                index = semicolon + 1
                continue
            }
        }
        output.append(scalar)
        index += 1
    }
    return String(output)
}
