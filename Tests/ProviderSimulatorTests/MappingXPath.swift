import CLibXML2
import Foundation

/// A mapping file (`providers/<id>.mapping.yaml`), read with just enough YAML for its fixed shape: top-level
/// scalars, the `namespaces` map, and the `entries` list of flat maps. Scalars may be plain, "double-" or
/// 'single-quoted'; a ` #` outside quotes starts a comment.
struct MappingFile {
    var namespaces: [String: String] = [:]
    var root: String?
    var patient: String?
    var entries: [[String: String]] = []
    /// Every top-level key, in order, to check nothing unexpected is there.
    var keys: [String] = []

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var section = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = Self.withoutComment(String(rawLine))
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let indent = line.prefix { $0 == " " }.count
            var content = line.trimmingCharacters(in: .whitespaces)
            if indent == 0 {
                let (key, value) = try Self.pair(content)
                keys.append(key)
                section = key
                switch key {
                case "root": root = value
                case "patient": patient = value
                default: break
                }
            } else if section == "namespaces" {
                let (key, value) = try Self.pair(content)
                namespaces[key] = value
            } else if section == "entries" {
                if content.hasPrefix("- ") {
                    entries.append([:])
                    content.removeFirst(2)
                }
                let (key, value) = try Self.pair(content)
                entries[entries.count - 1][key] = value
            }
        }
    }

    struct Malformed: Error { var line: String }

    private static func pair(_ content: String) throws -> (String, String) {
        guard let colon = content.range(of: ":") else { throw Malformed(line: content) }
        let key = String(content[..<colon.lowerBound])
        var value = content[colon.upperBound...].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            value = String(value.dropFirst().dropLast())
            if first == "\"" { value = value.replacingOccurrences(of: "\\\"", with: "\"") }
        }
        return (key, value)
    }

    private static func withoutComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                if previous == " " || previous == ":" { quote = character }
            } else if character == "#" && previous == " " {
                return String(line.prefix(offset))
            }
            previous = character
        }
        return line
    }
}

/// XPath 1.0 over one document with libxml2, as the gateway's mapped-xml decoder evaluates a mapping: record
/// XPaths from the document, field XPaths relative to each record node, every result taken as a string.
final class XPathDocument {
    private let document: xmlDocPtr
    private let context: xmlXPathContextPtr

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ bytes: [UInt8], namespaces: [String: String]) throws {
        let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_NOERROR.rawValue)
            | Int32(XML_PARSE_NOWARNING.rawValue)
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                xmlReadMemory($0, Int32(buffer.count), "record.xml", nil, options)
            }
        }
        guard let parsed else { throw Failure(description: "not well-formed") }
        guard let context = xmlXPathNewContext(parsed) else {
            xmlFreeDoc(parsed)
            throw Failure(description: "no XPath context")
        }
        document = parsed
        self.context = context
        for (prefix, uri) in namespaces {
            _ = xmlXPathRegisterNs(context, prefix, uri)
        }
    }

    deinit {
        xmlXPathFreeContext(context)
        xmlFreeDoc(document)
    }

    /// The nodes an absolute XPath selects.
    func nodes(_ expression: String) throws -> [xmlNodePtr] {
        context.pointee.node = nil
        guard let result = xmlXPathEvalExpression(expression, context) else {
            throw Failure(description: "invalid XPath \(expression)")
        }
        defer { xmlXPathFreeObject(result) }
        guard result.pointee.type == XPATH_NODESET else { throw Failure(description: "not a node-set: \(expression)") }
        guard let set = result.pointee.nodesetval, set.pointee.nodeNr > 0 else { return [] }
        return (0..<Int(set.pointee.nodeNr)).compactMap { set.pointee.nodeTab[$0] }
    }

    /// The string value of an XPath, relative to `node` (or the document when nil); "" when it selects nothing.
    func string(_ expression: String, at node: xmlNodePtr? = nil) throws -> String {
        context.pointee.node = node
        guard let result = xmlXPathEvalExpression(expression, context) else {
            throw Failure(description: "invalid XPath \(expression)")
        }
        defer { xmlXPathFreeObject(result) }
        guard let text = xmlXPathCastToString(result) else { return "" }
        defer { freeXMLMemory(text) }
        return String(cString: text)
    }

    /// The root element's name as `prefix:local`, using the mapping's prefix for its namespace.
    func rootName(prefixes: [String: String]) -> String? {
        guard let root = xmlDocGetRootElement(document), let name = root.pointee.name else { return nil }
        let local = String(cString: name)
        guard let uri = root.pointee.ns?.pointee.href.map({ String(cString: $0) }) else { return local }
        let prefix = prefixes.first { $0.value == uri }?.key
        return prefix.map { "\($0):\(local)" } ?? local
    }
}

/// libxml2's deallocator, read once (`xmlFree` is a C global that Swift will not read from concurrent code).
private let freeXMLMemory: xmlFreeFunc = {
    var free: xmlFreeFunc?
    xmlMemGet(&free, nil, nil, nil)
    return free!
}()
