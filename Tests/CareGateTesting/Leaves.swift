import XMLSupport

/// A FHIR document flattened to sorted `path = value` leaves (array positions ignored; XML `value` and other
/// attributes as leaves), so the JSON and XML renderings of one resource can be compared.
public enum Leaves {
    public static func of(json: JSONValue) -> [String] {
        var leaves: [String] = []
        walk(json, path: "", into: &leaves)
        return leaves.sorted()
    }

    private static func walk(_ value: JSONValue, path: String, into leaves: inout [String]) {
        switch value {
        case .object(let members):
            let here = value["resourceType"]?.string.map { path.isEmpty ? $0 : "\(path)/\($0)" } ?? path
            for member in members where member.key != "resourceType" {
                walk(member.value, path: "\(here)/\(member.key)", into: &leaves)
            }
        case .array(let items): for item in items { walk(item, path: path, into: &leaves) }
        case .string(let text): leaves.append("\(path) = \(text)")
        case .number(let text): leaves.append("\(path) = \(text)")
        case .bool(let flag): leaves.append("\(path) = \(flag)")
        case .null: leaves.append("\(path) = null")
        }
    }

    public static func of(xml: XMLElement) -> [String] {
        var leaves: [String] = []
        walk(xml, path: xml.name, into: &leaves)
        return leaves.sorted()
    }

    private static func walk(_ element: XMLElement, path: String, into leaves: inout [String]) {
        for attribute in element.attributes {
            leaves.append(attribute.name == "value" ? "\(path) = \(attribute.value)" : "\(path)/\(attribute.name) = \(attribute.value)")
        }
        for child in element.children { walk(child, path: "\(path)/\(child.name)", into: &leaves) }
    }
}

