/// FHIR JSON, compact: `resourceType` first, repeating elements always as arrays, decimals and integers as
/// JSON numbers (their text kept exactly, so `5.00` stays `5.00`), no nulls (the tree holds none).
enum FHIRJSONWriter {
    static func write(_ resource: FHIRResource, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("resourceType", to: &output)
        writeString(resource.resourceType, to: &output)
        if let id = resource.id {
            output.append(UInt8(ascii: ","))
            writeKey("id", to: &output)
            writeString(id, to: &output)
        }
        for property in resource.elements {
            output.append(UInt8(ascii: ","))
            write(property, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    private static func write(_ element: FHIRElement, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        var first = true
        if let url = element.url {
            writeKey("url", to: &output)
            writeString(url, to: &output)
            first = false
        }
        for property in element.properties {
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            write(property, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    private static func write(_ property: FHIRProperty, to output: inout [UInt8]) {
        writeKey(property.name, to: &output)
        guard property.repeats else {
            write(property.values[0], to: &output)
            return
        }
        output.append(UInt8(ascii: "["))
        for (index, value) in property.values.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            write(value, to: &output)
        }
        output.append(UInt8(ascii: "]"))
    }

    private static func write(_ value: FHIRValue, to output: inout [UInt8]) {
        switch value {
        case .string(let text): writeString(text, to: &output)
        case .number(let text): output.append(contentsOf: text.utf8)
        case .boolean(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .element(let element): write(element, to: &output)
        case .resource(let resource): write(resource, to: &output)
        }
    }

    private static func writeKey(_ key: String, to output: inout [UInt8]) {
        writeString(key, to: &output)
        output.append(UInt8(ascii: ":"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
