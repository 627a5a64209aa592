import CLibXML2

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
    /// Only what `scope` names is built into the tree (see `XMLReadScope`); the rest is checked and skipped,
    /// which saves time and memory when a decoder will not read it.
    public static func parse(
        _ bytes: [UInt8], limits: XMLParseLimits = XMLParseLimits(), reading scope: XMLReadScope = .everything
    ) throws(XMLParseError) -> XMLElement {
        guard bytes.count <= limits.maxBytes else { throw XMLParseError(.tooLarge(limit: limits.maxBytes)) }
        // libxml2 takes the length as an Int32 (and `XMLTree` counts in Int32).
        guard bytes.count <= Int(Int32.max) else { throw XMLParseError(.tooLarge(limit: Int(Int32.max))) }
        guard bytes.contains(where: { !isXMLWhitespace($0) }) else { throw XMLParseError(.empty) }
        ensureInitialised()

        // The callbacks reach the parse's state through this pointer rather than a class reference: they run
        // for every element and run of text, and a class's stored properties would cost a retain and release
        // and a dynamic exclusivity check on each access. Freed after the parser context (defers run in reverse).
        let state = UnsafeMutablePointer<ParseState>.allocate(capacity: 1)
        state.initialize(
            to: ParseState(limits: limits, scope: scope, expectedBytes: bytes.count))
        defer {
            state.deinitialize(count: 1)
            state.deallocate()
        }
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.startElementNs = onStartElement
        handler.endElementNs = onEndElement
        if scope.text {
            handler.characters = onCharacters
            handler.cdataBlock = onCharacters
        }
        handler.internalSubset = onDoctype
        handler.externalSubset = onDoctype
        handler.entityDecl = onEntityDeclaration
        handler.serror = onError

        guard let context = xmlCreatePushParserCtxt(&handler, state, nil, 0, nil) else {
            throw XMLParseError(.malformed, detail: "parser could not be created")
        }
        defer { xmlFreeParserCtxt(context) }
        state.pointee.context = context
        let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_NOERROR.rawValue)
            | Int32(XML_PARSE_NOWARNING.rawValue) | Int32(XML_PARSE_NOXINCNODE.rawValue)
        xmlCtxtUseOptions(context, options)

        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                xmlParseChunk(context, pointer, Int32(buffer.count), 1)
            }
        }
        if let failure = state.pointee.failure { throw failure }
        guard status == 0, context.pointee.wellFormed != 0 else {
            throw XMLParseError(.malformed, line: Int(xmlSAX2GetLineNumber(context)))
        }
        guard state.pointee.tree.isComplete, let root = state.pointee.tree.finish() else {
            throw XMLParseError(.empty)
        }
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

/// What the callbacks of one parse share: the tree so far, the limits, the first failure. Lives only for one
/// parse, on one thread.
private struct ParseState: ~Copyable {
    let limits: XMLParseLimits
    let scope: XMLReadScope
    var context: xmlParserCtxtPtr?
    var tree: XMLTree.Builder
    var failure: XMLParseError?
    /// Depth inside a skipped subtree (0 when not skipping).
    var skipDepth = 0
    /// The depths of the open elements that keep any child (`XMLReadScope.elementsWithAnyChild`), innermost last.
    var anyChildDepths: [Int] = []
    /// Element names, as their positions in the tree's strings, with what the scope reads of them.
    var names: InternedStrings
    /// Attribute names likewise, apart: a document uses few, often one (FHIR's `value`), so that the last one
    /// found is usually the next one asked for.
    var attributeNames = InternedStrings(slots: 16)
    /// Namespace URIs, as their positions in the tree's strings, with whether their subtrees are skipped.
    var namespaces = InternedStrings(slots: 16)

    init(limits: XMLParseLimits, scope: XMLReadScope, expectedBytes: Int) {
        self.limits = limits
        self.scope = scope
        tree = XMLTree.Builder(expectedBytes: expectedBytes)
        // A small document has few distinct names; sizing the cache to it spares clearing slots it never uses
        // (a 1 KB response is parsed in a few microseconds).
        var slots = 32
        while slots < 256 && slots * 64 < expectedBytes { slots *= 2 }
        names = InternedStrings(slots: slots)
    }

    var line: Int { context.map { Int(xmlSAX2GetLineNumber($0)) } ?? 0 }

    mutating func fail(_ error: XMLParseError) {
        if failure == nil { failure = error }
        if let context { xmlStopParser(context) }
    }

    mutating func name(_ pointer: UnsafePointer<xmlChar>) -> (position: Int32, use: XMLReadScope.NameUse) {
        let found = names.value(for: pointer, dictionary: context?.pointee.dict) {
            Self.add($0, scope: scope, to: &tree)
        }
        return (found.position, XMLReadScope.NameUse(flags: found.flags))
    }

    mutating func attributeName(_ pointer: UnsafePointer<xmlChar>) -> (position: Int32, use: XMLReadScope.NameUse) {
        let found = attributeNames.value(for: pointer, dictionary: context?.pointee.dict) {
            Self.add($0, scope: scope, to: &tree)
        }
        return (found.position, XMLReadScope.NameUse(flags: found.flags))
    }

    /// A name met for the first time in this parse, added to the tree's strings (as the scope's own String
    /// when the scope lists it), with what the scope reads of it.
    private static func add(
        _ pointer: UnsafePointer<xmlChar>, scope: XMLReadScope, to tree: inout XMLTree.Builder
    ) -> Interned {
        let (name, use) = scope.name(at: pointer)
        return Interned(position: tree.add(name), flags: use.flags)
    }

    mutating func namespace(_ pointer: UnsafePointer<xmlChar>) -> (position: Int32, skipped: Bool) {
        let found = namespaces.value(for: pointer, dictionary: context?.pointee.dict) { pointer in
            let (uri, skipped) = scope.namespace(at: pointer)
            return Interned(position: tree.add(uri), flags: skipped ? 1 : 0)
        }
        return (found.position, found.flags != 0)
    }

    mutating func startElement(
        localName: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?, attributeCount: Int,
        attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        if failure != nil { return }
        // Skipped elements count towards the depth limit too: what is not built is still parsed.
        guard tree.depth + skipDepth < limits.maxDepth else {
            fail(XMLParseError(.tooDeep(limit: limits.maxDepth), line: line))
            return
        }
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        let namespace = uri.map { self.namespace($0) }
        let name = localName.map { self.name($0) } ?? (position: tree.add(""), use: scope.unlisted)
        let depth = tree.depth
        // The root is always kept: a reader checks it to tell a wrong document from an empty one.
        let kept = name.use.element || depth == 0 || anyChildDepths.last == depth
        guard kept, namespace?.skipped != true else {
            skipDepth = 1
            return
        }
        if name.use.anyChild { anyChildDepths.append(depth + 1) }
        tree.startElement(name: name.position, namespace: namespace?.position ?? XMLTree.noNamespace, line: line)
        guard attributeCount > 0, let attributes else { return }
        // Five pointers per attribute: local name, prefix, namespace URI, value start, value end.
        for index in 0..<attributeCount {
            let base = index * 5
            guard let localName = attributes[base], let start = attributes[base + 3], let end = attributes[base + 4]
            else { continue }
            let name = attributeName(localName)
            guard name.use.attribute else { continue }
            let value = UnsafeBufferPointer(start: start, count: max(0, end - start))
            let namespace = attributes[base + 2].map { self.namespace($0).position } ?? XMLTree.noNamespace
            // Most values hold no reference, and go into the tree as libxml2 hands them over.
            if memchr(start, Int32(UInt8(ascii: "&")), value.count) == nil {
                tree.addAttribute(name: name.position, namespace: namespace, value: value)
            } else {
                var decoded: [UInt8] = []
                appendDecodingCharacterReferences(value, to: &decoded)
                decoded.withUnsafeBufferPointer {
                    tree.addAttribute(name: name.position, namespace: namespace, value: $0)
                }
            }
        }
    }

    mutating func endElement() {
        if failure != nil { return }
        if skipDepth > 0 {
            skipDepth -= 1
            return
        }
        if anyChildDepths.last == tree.depth { anyChildDepths.removeLast() }
        tree.endElement()
    }

    mutating func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard failure == nil, skipDepth == 0 else { return }
        tree.appendText(text)
    }
}

/// Swift strings for the names libxml2 hands over, made once per distinct name rather than once per element.
///
/// libxml2 interns element and attribute names and namespace URIs in the parser's dictionary, so within one
/// parse a name arrives as the same pointer every time. This is a small direct-mapped cache from pointer to
/// value. Only pointers the dictionary owns are cached: a dictionary string stays valid and unchanged until the
/// parser is freed, after this cache, so a hit can never answer for a different string. Anything else (and a
/// slot lost to a collision) is simply made again.
struct InternedStrings {
    /// Pointer and value side by side: one allocation per cache, and one cache line per lookup.
    private struct Slot {
        var pointer: UnsafePointer<xmlChar>?
        var value: Interned
    }

    private var slots: [Slot]
    private let shift: UInt
    /// The last pointer found or cached, and its value (a dictionary pointer, like every cached one).
    private var lastPointer: UnsafePointer<xmlChar>?
    private var lastValue = Interned(position: 0, flags: 0)

    /// `slots` must be a power of two.
    init(slots: Int) {
        precondition(slots > 1 && slots & (slots - 1) == 0)
        self.slots = Array(repeating: Slot(pointer: nil, value: Interned(position: 0, flags: 0)), count: slots)
        shift = UInt(UInt.bitWidth - slots.trailingZeroBitCount)
    }

    mutating func value(
        for pointer: UnsafePointer<xmlChar>, dictionary: xmlDictPtr?, make: (UnsafePointer<xmlChar>) -> Interned
    ) -> Interned {
        // The same pointer as last time (one namespace for a whole document, usually) skips the table.
        if pointer == lastPointer { return lastValue }
        // Fibonacci hashing: the top bits of the product spread nearby addresses over the slots.
        let slot = Int((UInt(bitPattern: pointer) &* 0x9E37_79B9_7F4A_7C15) >> shift)
        if slots[slot].pointer == pointer {
            lastPointer = pointer
            lastValue = slots[slot].value
            return lastValue
        }
        let value = make(pointer)
        if let dictionary, xmlDictOwns(dictionary, pointer) == 1 {
            slots[slot] = Slot(pointer: pointer, value: value)
            lastPointer = pointer
            lastValue = value
        }
        return value
    }
}

/// A name's or namespace URI's position in the tree's strings and one byte of flags, packed in one word.
///
/// The parser looks one up for every element and attribute; as a tuple of an Int32 and separate flag bytes it
/// went through memory a byte at a time and was read back a word at a time, a store-forwarding stall each.
struct Interned {
    private let bits: UInt64

    init(position: Int32, flags: UInt8) {
        bits = UInt64(UInt32(bitPattern: position)) | UInt64(flags) << 32
    }

    var position: Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: bits)) }
    var flags: UInt8 { UInt8(truncatingIfNeeded: bits >> 32) }
}

/// The parse's state, from a callback's user data.
@inline(__always)
private func state(_ userData: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<ParseState> {
    userData!.assumingMemoryBound(to: ParseState.self)
}

private let onStartElement: startElementNsSAX2Func = {
    userData, localName, _, uri, _, _, attributeCount, _, attributes in
    state(userData).pointee.startElement(
        localName: localName, uri: uri, attributeCount: Int(attributeCount), attributes: attributes)
}

private let onEndElement: endElementNsSAX2Func = { userData, _, _, _ in
    state(userData).pointee.endElement()
}

private let onCharacters: charactersSAXFunc = { userData, characters, length in
    guard let characters, length > 0 else { return }
    state(userData).pointee.characters(UnsafeBufferPointer(start: characters, count: Int(length)))
}

private let onDoctype: internalSubsetSAXFunc = { userData, _, _, _ in
    let state = state(userData)
    state.pointee.fail(XMLParseError(.doctypeForbidden, line: state.pointee.line))
}

private let onEntityDeclaration: entityDeclSAXFunc = { userData, _, _, _, _, _ in
    let state = state(userData)
    state.pointee.fail(XMLParseError(.doctypeForbidden, line: state.pointee.line))
}

private let onError: xmlStructuredErrorFunc = { userData, error in
    guard userData != nil, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    state(userData).pointee.fail(XMLParseError(libxml2: error))
}

/// Appends an attribute value to `output`, decoding numeric character references.
///
/// SAX2 without entity substitution hands `&amp;` inside attribute values over as the text `&#38;`
/// (and likewise `&lt;`, `&gt;`, `&quot;`, `&apos;`). Decode numeric character references here instead of
/// turning on entity substitution, which would open the door to XXE and expansion bombs. A reference is `&#`,
/// decimal digits or `x` and hex digits, and `;` within ten characters; anything else is copied as it is.
func appendDecodingCharacterReferences(_ value: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
    guard let base = value.baseAddress else { return }
    var copied = 0
    var index = 0
    // memchr finds the next `&` a word at a time; most values have none, and this runs for every attribute.
    while index < value.count, let found = memchr(base + index, Int32(UInt8(ascii: "&")), value.count - index) {
        let ampersand = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        guard let (scalar, end) = characterReference(in: value, at: ampersand) else {
            index = ampersand + 1
            continue
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: value[copied..<ampersand]))
        UTF8.encode(scalar) { output.append($0) }
        index = end
        copied = end
    }
    output.append(contentsOf: UnsafeBufferPointer(rebasing: value[copied...]))
}

/// The scalar a `&#…;` reference starting at `ampersand` stands for, and the index after its `;`.
private func characterReference(in value: UnsafeBufferPointer<UInt8>, at ampersand: Int)
    -> (Unicode.Scalar, Int)?
{
    let digitsStart = ampersand + 2
    guard digitsStart < value.count, value[ampersand + 1] == UInt8(ascii: "#") else { return nil }
    // Digits are ASCII, so the ten-character window is ten bytes; any other byte in it fails to parse below.
    let window = value[digitsStart..<min(digitsStart + 10, value.count)]
    guard let semicolon = window.firstIndex(of: UInt8(ascii: ";")) else { return nil }
    let digits = String(decoding: UnsafeBufferPointer(rebasing: value[digitsStart..<semicolon]), as: UTF8.self)
    let number: UInt32? =
        digits.hasPrefix("x") || digits.hasPrefix("X")
        ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
    guard let number, let scalar = Unicode.Scalar(number) else { return nil }
    return (scalar, semicolon + 1)
}
