import XMLSupport
/// FHIR XML: the resource element in the FHIR namespace (and each resource nested in another, e.g. in
/// `Bundle.entry.resource`, declares it again, as FHIR XML requires); primitives as `<name value="…"/>`;
/// an extension's `url` as an attribute. No XML declaration (UTF-8 is XML's default) and no whitespace.
enum FHIRXMLWriter {
    static let namespace = "http://hl7.org/fhir"

    static func write(_ resource: FHIRResource, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "<"))
        output.append(contentsOf: resource.resourceType.utf8)
        output.append(contentsOf: " xmlns=\"\(namespace)\">".utf8)
        if let id = resource.id { writePrimitive("id", id, to: &output) }
        for property in resource.elements { write(property, to: &output) }
        writeEndTag(resource.resourceType, to: &output)
    }

    private static func write(_ property: FHIRProperty, to output: inout [UInt8]) {
        for value in property.values {
            switch value {
            case .string(let text), .number(let text): writePrimitive(property.name, text, to: &output)
            case .boolean(let flag): writePrimitive(property.name, flag ? "true" : "false", to: &output)
            case .element(let element):
                output.append(UInt8(ascii: "<"))
                output.append(contentsOf: property.name.utf8)
                if let url = element.url { writeAttribute("url", url, to: &output) }
                output.append(UInt8(ascii: ">"))
                for child in element.properties { write(child, to: &output) }
                writeEndTag(property.name, to: &output)
            case .resource(let resource):
                output.append(UInt8(ascii: "<"))
                output.append(contentsOf: property.name.utf8)
                output.append(UInt8(ascii: ">"))
                write(resource, to: &output)
                writeEndTag(property.name, to: &output)
            }
        }
    }

    private static func writePrimitive(_ name: String, _ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "<"))
        output.append(contentsOf: name.utf8)
        writeAttribute("value", value, to: &output)
        output.append(contentsOf: "/>".utf8)
    }

    private static func writeEndTag(_ name: String, to output: inout [UInt8]) {
        output.append(contentsOf: "</".utf8)
        output.append(contentsOf: name.utf8)
        output.append(UInt8(ascii: ">"))
    }

    /// Escapes for a double-quoted attribute; tab, line feed and carriage return as character references,
    /// since a parser would otherwise normalise them to spaces.
    private static func writeAttribute(_ name: String, _ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: " "))
        output.append(contentsOf: name.utf8)
        output.append(contentsOf: "=\"".utf8)
        XMLEscaping.appendAttributeValue(value, to: &output)
        output.append(UInt8(ascii: "\""))
    }
}
