/// What of a document its reader will look at, so that `SafeXMLParser` builds only that.
///
/// A decoder reads a small, known part of what providers send: FHIR keeps every primitive in a `value`
/// attribute and never reads element text; CDA and mapped formats read named elements. Building the rest
/// into the tree costs as much as parsing it, so a reader that says what it reads gets a tree of just that,
/// with everything it reads exactly as a full parse gives it. What is left out is skipped while parsing
/// (libxml2 still checks it is well-formed, and the limits still apply to all of it).
///
/// An element is kept when its namespace is not skipped and its local name is in `elements` (or `elements`
/// is nil), or its parent is kept and named in `elementsWithAnyChild`. A skipped element's whole subtree is
/// skipped. Attributes are kept by local name, whatever their namespace (so `attributes: ["type"]` keeps
/// `xsi:type`). Keeping more than a reader reads is always safe; leaving out a name it reads loses that field.
public struct XMLReadScope: Sendable, Hashable {
    /// Namespaces whose elements are skipped with their subtrees (e.g. FHIR's XHTML narrative).
    public var skippedNamespaces: Set<String>
    /// The local names of the elements read; nil reads every element.
    public var elements: Set<String>?
    /// Elements whose children are kept whatever their names: a FHIR `resource` holds a resource of any type.
    public var elementsWithAnyChild: Set<String>
    /// The local names of the attributes read; nil reads every attribute.
    public var attributes: Set<String>?
    /// Whether elements' character data is read.
    public var text: Bool

    public init(
        skippedNamespaces: Set<String> = [], elements: Set<String>? = nil, elementsWithAnyChild: Set<String> = [],
        attributes: Set<String>? = nil, text: Bool = true
    ) {
        self.skippedNamespaces = skippedNamespaces
        self.elements = elements
        self.elementsWithAnyChild = elementsWithAnyChild
        self.attributes = attributes
        self.text = text
    }

    /// The whole document.
    public static let everything = XMLReadScope()

    /// What the parser decides once per distinct name in a parse.
    struct NameUse {
        /// An element of this name is kept (when its namespace is not skipped).
        var element: Bool
        /// An element of this name keeps all its children.
        var anyChild: Bool
        /// An attribute of this name is kept.
        var attribute: Bool
    }

    func use(of name: String) -> NameUse {
        NameUse(
            element: elements?.contains(name) ?? true, anyChild: elementsWithAnyChild.contains(name),
            attribute: attributes?.contains(name) ?? true)
    }
}
