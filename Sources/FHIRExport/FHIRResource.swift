import CareRecords

/// An ordered FHIR element tree for one resource; serialises to FHIR JSON and FHIR XML.
///
/// The tree keeps elements in the order the R4 schema requires, because FHIR XML is order-sensitive (FHIR JSON
/// is not, and is written in the same order). Values are already valid FHIR primitives when they reach the tree:
/// `FHIRElementBuilder` is the only way in, and it sanitises or drops what is not, so both encodings always say
/// the same thing.
public struct FHIRResource: Sendable, Hashable {
    public var resourceType: String
    public var id: String?
    /// The resource's elements after `id`, in schema order.
    var elements: [FHIRProperty]

    init(resourceType: String, id: String?, elements: [FHIRProperty]) {
        self.resourceType = resourceType
        self.id = id
        self.elements = elements
    }

    init(_ type: FHIRResourceType, id: String?, build: (inout FHIRElementBuilder) -> Void) {
        var builder = FHIRElementBuilder()
        build(&builder)
        self.init(resourceType: type.rawValue, id: id, elements: builder.properties)
    }

    init(resourceType: String, id: String? = nil, build: (inout FHIRElementBuilder) -> Void) {
        var builder = FHIRElementBuilder()
        build(&builder)
        self.init(resourceType: resourceType, id: id, elements: builder.properties)
    }

    /// The resource as a FHIR JSON (compact) or FHIR XML document, UTF-8.
    public func encoded(_ format: FHIRFormat) -> [UInt8] {
        switch format {
        case .json:
            var output = JSONOutput(reservingCapacity: 1024)
            FHIRJSONWriter.write(self, to: &output)
            return output.bytes
        case .xml:
            var output: [UInt8] = []
            output.reserveCapacity(1024)
            FHIRXMLWriter.write(self, to: &output)
            return output
        }
    }
}

/// One named element of a resource or complex type, with every occurrence of it.
struct FHIRProperty: Sendable, Hashable {
    var name: String
    var values: [FHIRValue]
    /// True when the schema allows more than one occurrence: FHIR JSON then writes an array even for one value.
    var repeats: Bool
}

/// A complex-typed value: an ordered list of elements, plus the `url` that extensions carry as an XML attribute.
struct FHIRElement: Sendable, Hashable {
    var url: String?
    var properties: [FHIRProperty]

    var isEmpty: Bool { url == nil && properties.isEmpty }
}

indirect enum FHIRValue: Sendable, Hashable {
    /// Every primitive written as a JSON string (string, code, uri, id, dateTime, instant, markdown …).
    case string(String)
    /// decimal, integer, unsignedInt, positiveInt: already in FHIR's lexical form, written as a JSON number.
    case number(String)
    case boolean(Bool)
    case element(FHIRElement)
    case resource(FHIRResource)
}
