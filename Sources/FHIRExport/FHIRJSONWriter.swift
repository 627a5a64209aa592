import CareRecords

/// FHIR JSON, compact: `resourceType` first, repeating elements always as arrays, decimals and integers as
/// JSON numbers (their text kept exactly, so `5.00` stays `5.00`), no nulls (the tree holds none).
enum FHIRJSONWriter {
    static func write(_ resource: FHIRResource, to output: inout JSONOutput) {
        output.byte("{")
        output.key("resourceType")
        output.string(resource.resourceType)
        if let id = resource.id {
            output.byte(",")
            output.key("id")
            output.string(id)
        }
        for property in resource.elements {
            output.byte(",")
            write(property, to: &output)
        }
        output.byte("}")
    }

    private static func write(_ element: FHIRElement, to output: inout JSONOutput) {
        output.byte("{")
        var first = true
        if let url = element.url {
            output.key("url")
            output.string(url)
            first = false
        }
        for property in element.properties {
            if !first { output.byte(",") }
            first = false
            write(property, to: &output)
        }
        output.byte("}")
    }

    private static func write(_ property: FHIRProperty, to output: inout JSONOutput) {
        output.key(property.name)
        guard property.repeats else {
            write(property.values[0], to: &output)
            return
        }
        output.byte("[")
        for (index, value) in property.values.enumerated() {
            if index > 0 { output.byte(",") }
            write(value, to: &output)
        }
        output.byte("]")
    }

    private static func write(_ value: FHIRValue, to output: inout JSONOutput) {
        switch value {
        case .string(let text): output.string(text)
        case .number(let text): output.number(text: text)
        case .boolean(let flag): output.boolean(flag)
        case .element(let element): write(element, to: &output)
        case .resource(let resource): write(resource, to: &output)
        }
    }
}
