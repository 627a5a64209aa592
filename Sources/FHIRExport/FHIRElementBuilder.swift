/// Appends elements in the order they are added, sanitising primitives so the tree only ever holds valid FHIR:
/// empty values, empty objects and empty arrays are never added (FHIR forbids all three).
struct FHIRElementBuilder: Sendable {
    private(set) var properties: [FHIRProperty] = []

    init() {}

    /// A complex value built in place; nil (and so left out) when nothing was added to it.
    static func element(url: String? = nil, _ build: (inout FHIRElementBuilder) -> Void) -> FHIRElement? {
        var builder = FHIRElementBuilder()
        build(&builder)
        guard !builder.properties.isEmpty else { return nil }
        return FHIRElement(url: url, properties: builder.properties)
    }

    // MARK: - Primitives (single)

    /// A `string` or `markdown`: control characters XML cannot carry are removed, whitespace trimmed.
    mutating func string(_ name: String, _ value: String?) {
        guard let value = value.flatMap(FHIRPrimitive.string) else { return }
        append(name, .string(value), repeats: false)
    }

    /// A `code`: whitespace runs collapsed to one space, as FHIR's code pattern requires.
    mutating func code(_ name: String, _ value: String?) {
        guard let value = value.flatMap(FHIRPrimitive.code) else { return }
        append(name, .string(value), repeats: false)
    }

    /// A `uri`, `url` or `canonical`: left out when it holds whitespace (not a URI).
    mutating func uri(_ name: String, _ value: String?) {
        guard let value = value.flatMap(FHIRPrimitive.uri) else { return }
        append(name, .string(value), repeats: false)
    }

    /// A value already in its FHIR lexical form (id, dateTime, instant, date), checked by the caller.
    mutating func lexical(_ name: String, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        append(name, .string(value), repeats: false)
    }

    /// A decimal or integer already in FHIR's lexical form.
    mutating func number(_ name: String, _ value: String) {
        append(name, .number(value), repeats: false)
    }

    mutating func integer(_ name: String, _ value: Int) {
        append(name, .number(String(value)), repeats: false)
    }

    mutating func boolean(_ name: String, _ value: Bool) {
        append(name, .boolean(value), repeats: false)
    }

    // MARK: - Repeating primitives

    mutating func codes(_ name: String, _ values: [String]) {
        for value in values.compactMap(FHIRPrimitive.code) { append(name, .string(value), repeats: true) }
    }

    mutating func strings(_ name: String, _ values: [String]) {
        for value in values.compactMap(FHIRPrimitive.string) { append(name, .string(value), repeats: true) }
    }

    // MARK: - Complex values

    /// A single complex element; left out when nil or empty.
    mutating func element(_ name: String, _ value: FHIRElement?) {
        guard let value, !value.isEmpty else { return }
        append(name, .element(value), repeats: false)
    }

    mutating func element(_ name: String, url: String? = nil, _ build: (inout FHIRElementBuilder) -> Void) {
        element(name, Self.element(url: url, build))
    }

    /// One more occurrence of a repeating complex element; left out when nil or empty.
    mutating func repeating(_ name: String, _ value: FHIRElement?) {
        guard let value, !value.isEmpty else { return }
        append(name, .element(value), repeats: true)
    }

    mutating func repeating(_ name: String, url: String? = nil, _ build: (inout FHIRElementBuilder) -> Void) {
        repeating(name, Self.element(url: url, build))
    }

    /// A contained resource (`Bundle.entry.resource`).
    mutating func resource(_ name: String, _ resource: FHIRResource) {
        append(name, .resource(resource), repeats: false)
    }

    /// Adds to the property of the same name when it is the last one added, so repeats stay one JSON array.
    private mutating func append(_ name: String, _ value: FHIRValue, repeats: Bool) {
        if repeats, let last = properties.indices.last, properties[last].name == name {
            properties[last].values.append(value)
        } else {
            assert(!properties.contains { $0.name == name }, "FHIR element \(name) added twice or out of order")
            properties.append(FHIRProperty(name: name, values: [value], repeats: repeats))
        }
    }
}
