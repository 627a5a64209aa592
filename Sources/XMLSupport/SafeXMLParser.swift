import CLibXML2
import Synchronization

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
    /// which saves time and memory when a decoder will not read it. `charset`: the encoding the transport
    /// declared (HTTP `Content-Type`), used when the document states none of its own (see `TransportCharset`).
    public static func parse(
        _ bytes: [UInt8], limits: XMLParseLimits = XMLParseLimits(), reading scope: XMLReadScope = .everything,
        charset: String? = nil
    ) throws(XMLParseError) -> XMLElement {
        guard bytes.count <= limits.maxBytes else { throw XMLParseError(.tooLarge(limit: limits.maxBytes)) }
        // libxml2 takes the length as an Int32 (and `XMLTree` counts in Int32).
        guard bytes.count <= Int(Int32.max) else { throw XMLParseError(.tooLarge(limit: Int(Int32.max))) }
        guard bytes.contains(where: { !isXMLWhitespace($0) }) else { throw XMLParseError(.empty) }
        let encoding = try TransportCharset.encoding(of: bytes, declared: charset)
        ensureInitialised()

        let parser = try scope.parsers.checkOut()
        // The callbacks reach the parse's state through this pointer rather than a class reference: they run
        // for every element and run of text, and a class's stored properties would cost a retain and release
        // and a dynamic exclusivity check on each access. The parser's name caches move in for the parse and
        // back out after it.
        let state = UnsafeMutablePointer<ParseState>.allocate(capacity: 1)
        state.initialize(
            to: ParseState(
                limits: limits, scope: scope, expectedBytes: bytes.count, context: parser.context,
                caches: parser.takeCaches()))
        let context = parser.context
        context.pointee.userData = UnsafeMutableRawPointer(state)
        // A converter's errors reach no parser callback, only this thread's structured error handler: set for
        // this parse when a converter may run (it runs on this thread, to its end), and the previous one put back.
        let previousHandler = encoding == nil ? nil : (__xmlStructuredError().pointee, __xmlStructuredErrorContext().pointee)
        if encoding != nil { xmlSetStructuredErrorFunc(UnsafeMutableRawPointer(state), onConverterError) }
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                parser.push(UnsafeBufferPointer(start: pointer, count: buffer.count), encoding: encoding)
            }
        }
        if let (handler, handlerContext) = previousHandler { xmlSetStructuredErrorFunc(handlerContext, handler) }
        // The state moves out and is freed here; a kept parser must not point at it until its next parse sets
        // it again.
        context.pointee.userData = nil
        let finished = state.move()
        state.deallocate()
        parser.putBack(finished.caches)
        // Bytes the charset's converter refused end the parse; what the parser reports after them is a
        // consequence, not the cause.
        if finished.converterFailed {
            throw XMLParseError(.invalidForCharset, line: Int(xmlSAX2GetLineNumber(context)))
        }
        if let failure = finished.failure { throw encoding.map(failure.underCharset) ?? failure }
        guard let status else {
            throw XMLParseError(.malformed, detail: "parser could not be reset")
        }
        guard status == 0, context.pointee.wellFormed != 0 else {
            throw XMLParseError(.malformed, line: Int(xmlSAX2GetLineNumber(context)))
        }
        guard finished.tree.isComplete, let root = finished.tree.finish() else { throw XMLParseError(.empty) }
        // Only a parser whose document parsed is used again: whatever state a refused one left goes with it.
        scope.parsers.checkIn(parser)
        return root
    }

    /// libxml2's global initialisation is not thread-safe; do it once, before any concurrent parse.
    private static let initialised: Bool = {
        xmlInitParser()
        // libxml2 prints some errors that reach no parser's callbacks (an encoding converter's, with the bytes
        // it refused) to stderr through its generic handler: a peer's bytes in the gateway's logs. Every thread's
        // handler, this one's and those of threads yet to use libxml2, drops them; the parse still fails.
        caregate_drop_generic_errors()
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
    let context: xmlParserCtxtPtr
    var tree: XMLTree.Builder
    var failure: XMLParseError?
    /// Depth inside a skipped subtree (0 when not skipping).
    var skipDepth = 0
    /// The depths of the open elements that keep any child (`XMLReadScope.elementsWithAnyChild`), innermost last.
    var anyChildDepths: [Int] = []
    /// The depth of the open element whose whole subtree is kept (`XMLReadScope.elementsWithSubtree`), if any:
    /// every element deeper than it is kept.
    var subtreeDepth = Int.max
    /// Elements started so far, skipped ones included: the next one's position in the source's document order.
    var sourcePosition: Int32 = 0
    /// The parser's name caches, lent for this parse (see `ReusableParser`).
    var caches: NameCaches
    /// True once the encoding converter (for a transport's charset) refused bytes.
    var converterFailed = false

    init(
        limits: XMLParseLimits, scope: XMLReadScope, expectedBytes: Int, context: xmlParserCtxtPtr,
        caches: consuming NameCaches
    ) {
        self.limits = limits
        self.scope = scope
        self.context = context
        tree = XMLTree.Builder(expectedBytes: expectedBytes, scope: scope)
        caches.startParse()
        self.caches = caches
    }

    var line: Int { Int(xmlSAX2GetLineNumber(context)) }

    mutating func fail(_ error: XMLParseError) {
        if failure == nil { failure = error }
        xmlStopParser(context)
    }

    mutating func name(_ pointer: UnsafePointer<xmlChar>) -> (position: Int32, use: XMLReadScope.NameUse) {
        let found = caches.names.value(
            for: pointer, dictionary: context.pointee.dict, tree: &tree, scope: scope, make: Self.makeName)
        return (found.position, XMLReadScope.NameUse(flags: found.flags))
    }

    mutating func attributeName(_ pointer: UnsafePointer<xmlChar>) -> (position: Int32, use: XMLReadScope.NameUse) {
        let found = caches.attributeNames.value(
            for: pointer, dictionary: context.pointee.dict, tree: &tree, scope: scope, make: Self.makeName)
        return (found.position, XMLReadScope.NameUse(flags: found.flags))
    }

    mutating func namespace(_ pointer: UnsafePointer<xmlChar>) -> (position: Int32, skipped: Bool) {
        let found = caches.namespaces.value(
            for: pointer, dictionary: context.pointee.dict, tree: &tree, scope: scope, make: Self.makeNamespace)
        return (found.position, found.flags != 0)
    }

    /// A name not in the cache: as a String (the scope's own when the scope lists it), with what the scope reads
    /// of it and its index in the scope's names. Static, so that passing it captures nothing.
    private static func makeName(_ pointer: UnsafePointer<xmlChar>, scope: XMLReadScope) -> NewName {
        let (name, use, index) = scope.name(at: pointer)
        return NewName(string: name, flags: use.flags, index: index)
    }

    private static func makeNamespace(_ pointer: UnsafePointer<xmlChar>, scope: XMLReadScope) -> NewName {
        let (uri, skipped, index) = scope.namespace(at: pointer)
        return NewName(string: uri, flags: skipped ? XMLReadScope.NameUse.skippedNamespace : 0, index: index)
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
        let source = sourcePosition
        sourcePosition &+= 1
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        let namespace = uri.map { self.namespace($0) }
        let name = localName.map { self.name($0) } ?? (position: tree.add("", index: XMLReadScope.noIndex), use: scope.unlisted)
        let depth = tree.depth
        // The root is always kept: a reader checks it to tell a wrong document from an empty one.
        let kept = name.use.element || depth == 0 || anyChildDepths.last == depth || depth > subtreeDepth
        guard kept, namespace?.skipped != true else {
            skipDepth = 1
            return
        }
        if name.use.anyChild || (depth == 0 && scope.keepsRootChildren) { anyChildDepths.append(depth + 1) }
        if name.use.subtree && depth < subtreeDepth { subtreeDepth = depth }
        tree.startElement(
            name: name.position, namespace: namespace?.position ?? XMLTree.noNamespace, line: line, source: source)
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
        if tree.depth == subtreeDepth { subtreeDepth = Int.max }
    }

    mutating func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard failure == nil, skipDepth == 0 else { return }
        tree.appendText(text)
    }
}

/// Swift strings for the names libxml2 hands over, made once per distinct name rather than once per element,
/// and kept from one parse to the next while the parser (and so its dictionary) is reused.
///
/// libxml2 interns element and attribute names and namespace URIs in the parser's dictionary, so a name arrives
/// as the same pointer every time, in this parse and in every later one on the same parser (`xmlCtxtResetPush`
/// keeps the dictionary). This is a small direct-mapped cache from pointer to String and flags. Only pointers
/// the dictionary owns are cached: a dictionary string stays valid and unchanged until the parser is freed,
/// after this cache, so a hit can never answer for a different string. Anything else (and a slot lost to a
/// collision) is simply made again. Each parse adds a cached String to its tree the first time it meets it.
struct InternedStrings {
    /// Pointer and value side by side: one allocation per cache, and one cache line per lookup.
    private struct Slot {
        var pointer: UnsafePointer<xmlChar>?
        var string: String
        var flags: UInt8
        /// The name's index in the scope's names (`XMLReadScope.noIndex` when unlisted).
        var index: Int32
        /// The parse that last added `string` to its tree, at `position`.
        var parse: Int
        var position: Int32
    }

    private var slots: [Slot]
    private let shift: UInt
    /// Counts parses, so that a String cached in an earlier one is added to this one's tree before use.
    private var parse = 0
    /// The last pointer found or cached in this parse, and its value (a dictionary pointer, like every cached one).
    private var lastPointer: UnsafePointer<xmlChar>?
    private var lastValue = Interned(position: 0, flags: 0)

    /// `slots` must be a power of two.
    init(slots: Int) {
        precondition(slots > 1 && slots & (slots - 1) == 0)
        self.slots = Array(
            repeating: Slot(pointer: nil, string: "", flags: 0, index: XMLReadScope.noIndex, parse: -1, position: 0),
            count: slots)
        shift = UInt(UInt.bitWidth - slots.trailingZeroBitCount)
    }

    /// Called before each parse: positions found in the last one belong to its tree, not the next.
    mutating func startParse() {
        parse += 1
        lastPointer = nil
    }

    mutating func value(
        for pointer: UnsafePointer<xmlChar>, dictionary: xmlDictPtr?, tree: inout XMLTree.Builder,
        scope: XMLReadScope, make: (UnsafePointer<xmlChar>, XMLReadScope) -> NewName
    ) -> Interned {
        // The same pointer as last time (one namespace for a whole document, usually) skips the table.
        if pointer == lastPointer { return lastValue }
        // Fibonacci hashing: the top bits of the product spread nearby addresses over the slots.
        let slot = Int((UInt(bitPattern: pointer) &* 0x9E37_79B9_7F4A_7C15) >> shift)
        if slots[slot].pointer == pointer {
            if slots[slot].parse != parse {
                slots[slot].position = tree.add(slots[slot].string, index: slots[slot].index)
                slots[slot].parse = parse
            }
            lastPointer = pointer
            lastValue = Interned(position: slots[slot].position, flags: slots[slot].flags)
            return lastValue
        }
        let new = make(pointer, scope)
        let value = Interned(position: tree.add(new.string, index: new.index), flags: new.flags)
        if let dictionary, xmlDictOwns(dictionary, pointer) == 1 {
            slots[slot] = Slot(
                pointer: pointer, string: new.string, flags: new.flags, index: new.index, parse: parse,
                position: value.position)
            lastPointer = pointer
            lastValue = value
        }
        return value
    }
}

/// A name met for the first time: its String, what the scope reads of it, its index in the scope's names.
struct NewName {
    var string: String
    var flags: UInt8
    var index: Int32
}

/// A parser's three name caches (see `InternedStrings`): element names, attribute names apart (a document uses
/// few, often one, so that the last one found is usually the next one asked for), and namespace URIs.
struct NameCaches: ~Copyable {
    var names = InternedStrings(slots: 256)
    var attributeNames = InternedStrings(slots: 16)
    var namespaces = InternedStrings(slots: 16)

    mutating func startParse() {
        names.startParse()
        attributeNames.startParse()
        namespaces.startParse()
    }
}

/// A libxml2 push parser kept between parses with the name caches that go with its dictionary: making a
/// parser context and its dictionary, and the Strings for a document's names, cost about as much as parsing
/// a 1 KB response, which is what most providers send.
///
/// Belongs to one scope's `ParserPool` (the cached names carry what that scope reads of them), and is used by
/// one parse at a time: taken out of the pool for the parse, given back after it.
final class ReusableParser: @unchecked Sendable {
    let context: xmlParserCtxtPtr
    private var caches: NameCaches?
    /// Distinct names the dictionary may hold before the parser is retired: it keeps every name of every
    /// document parsed with it, and a peer could send a new name with every element.
    static let dictionaryLimit = 4096

    /// `text`: whether character data is delivered (a scope that reads none spares libxml2 the calls).
    init?(text: Bool) {
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.startElementNs = onStartElement
        handler.endElementNs = onEndElement
        if text {
            handler.characters = onCharacters
            handler.cdataBlock = onCharacters
        }
        handler.internalSubset = onDoctype
        handler.externalSubset = onDoctype
        handler.entityDecl = onEntityDeclaration
        handler.serror = onError
        // libxml2 copies the handler into the context.
        guard let context = xmlCreatePushParserCtxt(&handler, nil, nil, 0, nil) else { return nil }
        self.context = context
        caches = NameCaches()
    }

    deinit {
        xmlFreeParserCtxt(context)
    }

    /// The most of a document handed to libxml2 at once. Its push parser stops with "Huge input lookup" when it
    /// holds more than 10 MB it has not parsed (`XML_MAX_LOOKUP_LIMIT`), and a document may be up to
    /// `XMLParseLimits.maxBytes` (16 MB by default; a provider may allow more), so a larger one goes in pieces.
    /// Nearly every response is one piece.
    static let pieceBytes = 1 << 20

    /// Parses `document` with the callbacks, libxml2's state reset first (its dictionary kept), in `encoding`
    /// when given (else as the document says, UTF-8 by default). Returns libxml2's status (0: no error), or nil
    /// when the parser could not be reset.
    func push(_ document: UnsafeBufferPointer<CChar>, encoding: String? = nil) -> Int32? {
        // The first four bytes go in with the reset, as a new parser's first chunk would: libxml2 tells the
        // encoding from them (a UTF-16 byte order mark). Pushed in later, they are taken for UTF-8, and a UTF-16
        // document read as containing no element at all. An encoding given here replaces that guess; the next
        // reset without one forgets it.
        let head = min(4, document.count)
        guard xmlCtxtResetPush(context, document.baseAddress, Int32(head), nil, encoding) == 0 else { return nil }
        let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_NOERROR.rawValue)
            | Int32(XML_PARSE_NOWARNING.rawValue) | Int32(XML_PARSE_NOXINCNODE.rawValue)
        // The result names the options this libxml2 does not act on (2.9 ignores NOXINCNODE, which concerns
        // XInclude processing that never runs here): nothing to refuse a parse for.
        _ = xmlCtxtUseOptions(context, options)
        var offset = head
        while true {
            let count = min(Self.pieceBytes, document.count - offset)
            let last = offset + count == document.count
            let status = xmlParseChunk(context, document.baseAddress! + offset, Int32(count), last ? 1 : 0)
            offset += count
            if status != 0 || last { return status }
        }
    }

    /// True while the dictionary is small enough to keep (see `dictionaryLimit`).
    var isReusable: Bool { xmlDictSize(context.pointee.dict) <= Self.dictionaryLimit }

    func takeCaches() -> NameCaches {
        guard let caches = caches.take() else { preconditionFailure("a parser used by two parses at once") }
        return caches
    }

    func putBack(_ caches: consuming NameCaches) {
        self.caches = .some(caches)
    }
}

/// Idle parsers of one scope. A parse takes one (or makes one), and gives it back unless it failed or its
/// dictionary grew too large; at most `maxIdle` wait, so the pool is as large as the most parses ever at once.
final class ParserPool: Sendable {
    private let idle = Mutex<[ReusableParser]>([])
    private let text: Bool
    static let maxIdle = 16

    init(text: Bool) {
        self.text = text
    }

    /// An idle parser, or a new one. `ReusableParser.push` resets it for the document.
    func checkOut() throws(XMLParseError) -> ReusableParser {
        if let parser = idle.withLock({ $0.popLast() }) { return parser }
        guard let parser = ReusableParser(text: text) else {
            throw XMLParseError(.malformed, detail: "parser could not be created")
        }
        return parser
    }

    /// How many parsers wait to be used again.
    var idleCount: Int { idle.withLock { $0.count } }

    func checkIn(_ parser: ReusableParser) {
        guard parser.isReusable else { return }
        idle.withLock { idle in
            if idle.count < Self.maxIdle { idle.append(parser) }
        }
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

private let onConverterError: xmlStructuredErrorFunc = { userData, error in
    guard let error else { return }
    let code = error.pointee.code
    if code == Int32(XML_I18N_CONV_FAILED.rawValue) || code == Int32(XML_IO_ENCODER.rawValue) {
        state(userData).pointee.converterFailed = true
    }
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
