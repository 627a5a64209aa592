#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What of a document its reader will look at, so that `SafeXMLParser` builds only that.
///
/// A decoder reads a small, known part of what providers send: FHIR keeps every primitive in a `value`
/// attribute and never reads element text; CDA and mapped formats read named elements. Building the rest
/// into the tree costs as much as parsing it, so a reader that says what it reads gets a tree of just that,
/// with everything it reads exactly as a full parse gives it. What is left out is skipped while parsing
/// (libxml2 still checks it is well-formed, and the limits still apply to all of it).
///
/// An element is kept when its namespace is not skipped and its local name is in `elements` (or `elements`
/// is nil), or its parent is kept and named in `elementsWithAnyChild`, or it is a child of the root and
/// `keepsRootChildren` is set, or it is inside a kept element named in `elementsWithSubtree` (whatever its name
/// and namespace). A skipped element's whole subtree is skipped. Attributes are kept by local name, whatever their
/// namespace (so `attributes: ["type"]` keeps `xsi:type`). Keeping more than a reader reads is always safe;
/// leaving out a name it reads loses that field.
public struct XMLReadScope: Sendable, Hashable {
    /// Everything behind one reference: the parser holds a scope for the length of a parse and consults it for
    /// every new name, and a struct of five collections cost five retains and releases each time it was copied.
    private final class Storage: Sendable {
        let skippedNamespaces: Set<String>
        let elements: Set<String>?
        let elementsWithAnyChild: Set<String>
        let elementsWithSubtree: Set<String>
        let attributes: Set<String>?
        let comparedNames: Set<String>
        let comparedNamespaces: Set<String>
        let text: Bool
        let keepsRootChildren: Bool
        let sourcePositions: Bool
        let names: NameTable
        let namespaces: NameTable
        let unlisted: NameUse
        let parsers: ParserPool

        init(
            skippedNamespaces: Set<String>, elements: Set<String>?, elementsWithAnyChild: Set<String>,
            elementsWithSubtree: Set<String>, attributes: Set<String>?, comparedNames: Set<String>,
            comparedNamespaces: Set<String>, text: Bool, keepsRootChildren: Bool, sourcePositions: Bool
        ) {
            self.skippedNamespaces = skippedNamespaces
            self.elements = elements
            self.elementsWithAnyChild = elementsWithAnyChild
            self.elementsWithSubtree = elementsWithSubtree
            self.attributes = attributes
            self.comparedNames = comparedNames
            self.comparedNamespaces = comparedNamespaces
            self.text = text
            self.keepsRootChildren = keepsRootChildren
            self.sourcePositions = sourcePositions
            parsers = ParserPool(text: text)
            let unlisted = NameUse(
                element: elements == nil, anyChild: false, subtree: false, attribute: attributes == nil)
            self.unlisted = unlisted
            let listed = (elements ?? []).union(elementsWithAnyChild).union(elementsWithSubtree).union(attributes ?? [])
                .union(comparedNames)
            names = NameTable(
                listed.map { name in
                    (
                        name,
                        NameUse(
                            element: elements?.contains(name) ?? true,
                            anyChild: elementsWithAnyChild.contains(name),
                            subtree: elementsWithSubtree.contains(name),
                            attribute: attributes?.contains(name) ?? true)
                    )
                })
            namespaces = NameTable(
                skippedNamespaces.union(comparedNamespaces).map { uri in
                    (uri, NameUse(flags: skippedNamespaces.contains(uri) ? NameUse.skippedNamespace : 0))
                })
        }
    }

    private let storage: Storage

    /// Namespaces whose elements are skipped with their subtrees (e.g. FHIR's XHTML narrative).
    public var skippedNamespaces: Set<String> { storage.skippedNamespaces }
    /// The local names of the elements read; nil reads every element.
    public var elements: Set<String>? { storage.elements }
    /// Elements whose children are kept whatever their names: a FHIR `resource` holds a resource of any type.
    public var elementsWithAnyChild: Set<String> { storage.elementsWithAnyChild }
    /// Elements whose whole subtree is kept whatever its names: for a reader that takes an element's XPath string
    /// value (all the text inside it), or must tell mixed content from plain.
    public var elementsWithSubtree: Set<String> { storage.elementsWithSubtree }
    /// The local names of the attributes read; nil reads every attribute.
    public var attributes: Set<String>? { storage.attributes }
    /// Local names and namespace URIs the reader compares the tree's names against. They change nothing about
    /// what is kept; the tree holds these very Strings for them, so a comparison finds the two identical at once
    /// instead of comparing bytes (names the other sets list are shared the same way).
    public var comparedNames: Set<String> { storage.comparedNames }
    /// The namespace URIs the reader compares against, shared the same way.
    public var comparedNamespaces: Set<String> { storage.comparedNamespaces }
    /// Whether elements' character data is read.
    public var text: Bool { storage.text }
    /// Whether the root's children are kept whatever their names (their own children still by the rules
    /// above): for a reader that tells a wrapper of things it does not read from an empty one by them.
    public var keepsRootChildren: Bool { storage.keepsRootChildren }
    /// Whether the tree records, for each element it keeps, its position among all the document's elements
    /// (skipped ones included, in document order): what pairs a kept element with the same element of another
    /// parse of the document (`XMLTree.sourcePosition(of:)`, used by `XPathDocument`'s libxml2 fallback).
    public var sourcePositions: Bool { storage.sourcePositions }

    public init(
        skippedNamespaces: Set<String> = [], elements: Set<String>? = nil, elementsWithAnyChild: Set<String> = [],
        elementsWithSubtree: Set<String> = [], attributes: Set<String>? = nil, comparedNames: Set<String> = [],
        comparedNamespaces: Set<String> = [], text: Bool = true, keepsRootChildren: Bool = false,
        sourcePositions: Bool = false
    ) {
        storage = Storage(
            skippedNamespaces: skippedNamespaces, elements: elements, elementsWithAnyChild: elementsWithAnyChild,
            elementsWithSubtree: elementsWithSubtree, attributes: attributes, comparedNames: comparedNames,
            comparedNamespaces: comparedNamespaces, text: text, keepsRootChildren: keepsRootChildren,
            sourcePositions: sourcePositions)
    }

    /// The whole document.
    public static let everything = XMLReadScope()

    /// The whole document, with these names and namespace URIs shared (see `comparedNames`): what an
    /// `XPathDocument` can be given, as its libxml2 fallback needs every node.
    public static func everything(comparing expressions: some Sequence<XPathExpression>) -> XMLReadScope {
        var names = Set<String>()
        var namespaces = Set<String>()
        for expression in expressions {
            let compared = expression.comparedNames
            names.formUnion(compared.names)
            namespaces.formUnion(compared.namespaces)
        }
        return XMLReadScope(comparedNames: names, comparedNamespaces: namespaces)
    }

    /// The narrowest scope on whose trees an `XPathDocument` evaluates these expressions exactly as on the whole
    /// document: `selecting` gives nodes to read from (a mapping's records), `valuing` gives strings (its fields).
    /// It keeps every element and attribute a path names (by local name), the whole subtree of every element
    /// whose string value is taken (its text may sit in descendants of any name), and records source positions for
    /// the libxml2 fallback. When an expression is outside `XPathSubset`, or takes the string value of an element
    /// no name tells, it is `everything(comparing:)` instead.
    public static func reading(
        selecting: some Sequence<XPathExpression>, valuing: some Sequence<XPathExpression>
    ) -> XMLReadScope {
        let (selecting, valuing) = (Array(selecting), Array(valuing))
        let compared = everything(comparing: selecting + valuing)
        var elements = Set<String>()
        var subtrees = Set<String>()
        var attributes = Set<String>()
        for (expressions, valued) in [(selecting, false), (valuing, true)] {
            for expression in expressions {
                guard let names = expression.subset?.readNames(valued: valued) else { return compared }
                elements.formUnion(names.elements)
                subtrees.formUnion(names.subtrees)
                attributes.formUnion(names.attributes)
            }
        }
        return XMLReadScope(
            elements: elements.union(subtrees), elementsWithSubtree: subtrees, attributes: attributes,
            comparedNames: compared.comparedNames, comparedNamespaces: compared.comparedNamespaces,
            sourcePositions: true)
    }

    /// True when the scope leaves nothing out.
    public var keepsEverything: Bool {
        elements == nil && attributes == nil && text && skippedNamespaces.isEmpty
    }

    public static func == (lhs: XMLReadScope, rhs: XMLReadScope) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.skippedNamespaces == rhs.skippedNamespaces && lhs.elements == rhs.elements
                && lhs.elementsWithAnyChild == rhs.elementsWithAnyChild
                && lhs.elementsWithSubtree == rhs.elementsWithSubtree && lhs.attributes == rhs.attributes
                && lhs.comparedNames == rhs.comparedNames && lhs.comparedNamespaces == rhs.comparedNamespaces
                && lhs.text == rhs.text && lhs.keepsRootChildren == rhs.keepsRootChildren
                && lhs.sourcePositions == rhs.sourcePositions)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(skippedNamespaces)
        hasher.combine(elements)
        hasher.combine(elementsWithAnyChild)
        hasher.combine(elementsWithSubtree)
        hasher.combine(attributes)
        hasher.combine(comparedNames)
        hasher.combine(comparedNamespaces)
        hasher.combine(text)
        hasher.combine(keepsRootChildren)
        hasher.combine(sourcePositions)
    }

    /// What the parser decides once per distinct name in a parse: one byte of flags, which the parser keeps
    /// packed in one word with the name's position (see `Interned`).
    struct NameUse: Sendable {
        let flags: UInt8

        /// The flag a namespace URI's use carries when its elements are skipped.
        static let skippedNamespace: UInt8 = 1

        init(flags: UInt8) {
            self.flags = flags
        }

        init(element: Bool, anyChild: Bool, subtree: Bool, attribute: Bool) {
            flags = (element ? 1 : 0) | (anyChild ? 2 : 0) | (attribute ? 4 : 0) | (subtree ? 8 : 0)
        }

        /// An element of this name is kept (when its namespace is not skipped).
        var element: Bool { flags & 1 != 0 }
        /// An element of this name keeps all its children.
        var anyChild: Bool { flags & 2 != 0 }
        /// An attribute of this name is kept.
        var attribute: Bool { flags & 4 != 0 }
        /// An element of this name keeps its whole subtree.
        var subtree: Bool { flags & 8 != 0 }
    }

    /// Parsers kept for parses with this scope (their name caches hold what this scope reads of each name).
    var parsers: ParserPool { storage.parsers }

    /// What is read of a name no set lists.
    var unlisted: NameUse { storage.unlisted }

    /// The name at `pointer` (NUL-terminated UTF-8, as libxml2 hands it over) as a String, what is read of it,
    /// and its index among the names this scope lists (`noIndex` when unlisted). A listed name's String is the
    /// table's own, so only an unlisted one is made from the bytes.
    func name(at pointer: UnsafePointer<UInt8>) -> (name: String, use: NameUse, index: Int32) {
        if let index = storage.names.index(of: pointer) {
            let (name, use) = storage.names.entry(at: index)
            return (name, use, index)
        }
        return (String(cString: pointer), storage.unlisted, Self.noIndex)
    }

    /// The namespace URI at `pointer` as a String (the scope's own when it lists it), whether its elements are
    /// skipped, and its index among the namespace URIs this scope lists (`noIndex` when unlisted).
    func namespace(at pointer: UnsafePointer<UInt8>) -> (uri: String, skipped: Bool, index: Int32) {
        if let index = storage.namespaces.index(of: pointer) {
            let (uri, use) = storage.namespaces.entry(at: index)
            return (uri, use.flags & NameUse.skippedNamespace != 0, index)
        }
        return (String(cString: pointer), false, Self.noIndex)
    }

    /// The index of a name or namespace URI this scope does not list.
    static let noIndex: Int32 = -1

    /// The index of `name` among the names this scope lists: what a tree parsed with this scope records for
    /// each of its names (`XMLTree.nameIndices`), so that a reader can match names by number.
    func index(ofName name: String) -> Int32? {
        var name = name
        return name.withUTF8 { bytes in storage.names.index(of: bytes) }
    }

    /// The index of `uri` among the namespace URIs this scope lists.
    func index(ofNamespace uri: String) -> Int32? {
        var uri = uri
        return uri.withUTF8 { bytes in storage.namespaces.index(of: bytes) }
    }

    /// True when `other` is this very scope, not merely an equal one: equal scopes made apart number their names
    /// in different tables. Compares references both sides hold, so an address reused by a freed scope can
    /// never pass for it.
    func isSame(as other: XMLReadScope?) -> Bool {
        guard let other else { return false }
        return other.storage === storage
    }
}

/// Names found by their bytes: an open-addressed table, built once per scope and only read after, so parses
/// on any thread share it. Looking a name up hashes its bytes (FNV-1a) instead of making a String and hashing
/// that with SipHash, which a parse would otherwise do for every distinct name of every document.
final class NameTable: Sendable {
    private struct Entry: Sendable {
        var hash: UInt32
        var bytes: [UInt8]
        var name: String
        var use: XMLReadScope.NameUse
    }

    private let entries: [Entry]
    /// Positions in `entries`, or -1 for an empty slot; a power of two in size, at most half full.
    private let slots: [Int32]

    init(_ names: [(String, XMLReadScope.NameUse)]) {
        entries = names.map { name, use in
            let bytes = Array(name.utf8)
            return Entry(hash: Self.hash(bytes), bytes: bytes, name: name, use: use)
        }
        var size = 8
        while size < entries.count * 2 { size *= 2 }
        var slots = Array(repeating: Int32(-1), count: size)
        for (index, entry) in entries.enumerated() {
            var slot = Int(entry.hash) & (size - 1)
            while slots[slot] != -1 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index)
        }
        self.slots = slots
    }

    private static func hash(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }

    func entry(at index: Int32) -> (name: String, use: XMLReadScope.NameUse) {
        let entry = entries[Int(index)]
        return (entry.name, entry.use)
    }

    /// The position of the name at `pointer` (NUL-terminated, as libxml2 hands names over) in the list the table
    /// was made from.
    func index(of pointer: UnsafePointer<UInt8>) -> Int32? {
        index(of: UnsafeBufferPointer(start: pointer, count: strlen(pointer)))
    }

    /// The position of the name in `bytes` in the list the table was made from.
    func index(of bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard !entries.isEmpty else { return nil }
        let hash = Self.hash(bytes)
        var slot = Int(hash) & (slots.count - 1)
        while slots[slot] != -1 {
            let entry = entries[Int(slots[slot])]
            if entry.hash == hash && entry.bytes.count == bytes.count
                && (bytes.isEmpty
                    || entry.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
            {
                return slots[slot]
            }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }
}
