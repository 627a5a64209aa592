/// Rewrites a well-formed record body into the hostile or broken bodies the fault injection sends, so a gateway's
/// defences (no DTDs, no entities, depth and size caps, strict UTF-8, completeness checks) can be tested against
/// any format the simulator speaks. Works on bytes: the body's format does not matter, only that it has an XML
/// declaration and one root element, as every body the simulator writes does.
enum HostileBody {
    enum Rewrite: Equatable {
        case malformed
        case doctype
        case externalEntity
        case entityBomb
        case deepNesting
        case invalidUTF8
        case truncated
    }

    /// How deep `deepNesting` nests.
    static let nestingDepth = 10_000
    /// The bytes `invalidUTF8` inserts: a byte UTF-8 never uses, a reversed BOM half, and a lead byte followed by
    /// something that cannot continue it.
    static let invalidBytes: [UInt8] = [0xFF, 0xFE, 0xC3, 0x28]

    static func rewrite(_ body: [UInt8], _ rewrite: Rewrite) -> [UInt8] {
        guard let root = Root(in: body) else { return body }
        switch rewrite {
        case .malformed:
            return ProviderResponder.truncated(body)
        case .doctype:
            return insert("<!DOCTYPE \(root.name) [<!ELEMENT \(root.name) ANY>]>\n", at: root.start, in: body)
        case .externalEntity:
            let declared = insert(
                "<!DOCTYPE \(root.name) [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n", at: root.start, in: body)
            let offset = declared.count - body.count
            return insert("&xxe;", at: offset + (firstText(in: body, after: root) ?? root.contentStart), in: declared)
        case .entityBomb:
            var declarations = "<!ENTITY lol0 \"lol\">"
            for level in 1...9 {
                declarations += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">"
            }
            let declared = insert("<!DOCTYPE \(root.name) [\(declarations)]>\n", at: root.start, in: body)
            let offset = declared.count - body.count
            return insert("&lol9;", at: offset + (firstText(in: body, after: root) ?? root.contentStart), in: declared)
        case .deepNesting:
            let nested =
                String(repeating: "<nested>", count: nestingDepth) + String(repeating: "</nested>", count: nestingDepth)
            return insert(nested, at: root.contentStart, in: body)
        case .invalidUTF8:
            let position =
                firstText(in: body, after: root) ?? firstAttributeValue(in: body, after: root) ?? root.contentStart
            var bytes = body
            bytes.insert(contentsOf: invalidBytes, at: position)
            return bytes
        case .truncated:
            return cutInsideStartTag(body)
        }
    }

    /// The body split where `oversize` pads it (a comment just before the root's end tag), or nil when the body is
    /// already `bytes` long or longer: `head + padding spaces + tail` is exactly `bytes` long.
    static func padding(_ body: [UInt8], to bytes: Int) -> (head: [UInt8], padding: Int, tail: [UInt8])? {
        let open = Array("<!--".utf8)
        let close = Array("-->".utf8)
        let padding = bytes - body.count - open.count - close.count
        guard padding >= 0, let endTag = lastEndTag(in: body) else { return nil }
        return (Array(body[..<endTag]) + open, padding, close + Array(body[endTag...]))
    }

    /// The root element: where its start tag begins, its name, and where its content begins.
    struct Root {
        var start: Int
        var name: String
        var contentStart: Int

        init?(in body: [UInt8]) {
            var index = 0
            while index < body.count {
                if body[index] == UInt8(ascii: "<"), index + 1 < body.count, HostileBody.isNameStart(body[index + 1]) {
                    var end = index + 1
                    while end < body.count, !HostileBody.isNameEnd(body[end]) { end += 1 }
                    guard let close = body[end...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
                    start = index
                    name = String(decoding: body[(index + 1)..<end], as: UTF8.self)
                    contentStart = close + 1
                    return
                }
                index += 1
            }
            return nil
        }
    }

    /// The first byte of character data after the root's start tag (text that is not only whitespace).
    private static func firstText(in body: [UInt8], after root: Root) -> Int? {
        var index = root.contentStart
        while index < body.count {
            if body[index] == UInt8(ascii: ">"), index + 1 < body.count {
                let next = body[index + 1]
                if next != UInt8(ascii: "<") && !isWhitespace(next) { return index + 1 }
            }
            index += 1
        }
        return nil
    }

    /// Just inside the first `="…"` attribute value after the root's start tag.
    private static func firstAttributeValue(in body: [UInt8], after root: Root) -> Int? {
        let marker = Array("=\"".utf8)
        return body[root.contentStart...].firstRange(of: marker).map { $0.upperBound }
    }

    private static func lastEndTag(in body: [UInt8]) -> Int? {
        var index = body.count - 1
        while index > 0 {
            if body[index - 1] == UInt8(ascii: "<") && body[index] == UInt8(ascii: "/") { return index - 1 }
            index -= 1
        }
        return nil
    }

    /// Cuts halfway through the document, three letters into the name of the next start tag: `…<Obs`.
    private static func cutInsideStartTag(_ body: [UInt8]) -> [UInt8] {
        var index = body.count / 2
        while index + 4 < body.count {
            if body[index] == UInt8(ascii: "<"), isNameStart(body[index + 1]) {
                var nameEnd = index + 1
                while nameEnd < body.count, !isNameEnd(body[nameEnd]) { nameEnd += 1 }
                return Array(body[..<min(index + 4, nameEnd)])
            }
            index += 1
        }
        return Array(body.prefix(max(1, body.count / 2)))
    }

    private static func insert(_ text: String, at position: Int, in body: [UInt8]) -> [UInt8] {
        var bytes = body
        bytes.insert(contentsOf: Array(text.utf8), at: position)
        return bytes
    }

    static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || byte == UInt8(ascii: "_")
    }

    static func isNameEnd(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/")
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
