import XMLSupport

/// Writes XML with text content and attributes straight into a byte buffer: the CDA documents and the bespoke
/// provider formats, whose values live in elements' text rather than FHIR's `value` attributes.
///
/// Callers are responsible for element order, which each schema fixes.
struct XMLWriter {
    private(set) var bytes: [UInt8] = []

    /// Attributes in writing order; a nil value leaves the attribute out.
    typealias Attributes = KeyValuePairs<String, String?>

    init(capacity: Int = 16 * 1024) {
        bytes.reserveCapacity(capacity)
    }

    mutating func declaration() {
        raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// `<name a="…">`.
    mutating func open(_ name: String, _ attributes: Attributes = [:]) {
        startTag(name, attributes)
        bytes.append(UInt8(ascii: ">"))
    }

    mutating func close(_ name: String) {
        raw("</")
        raw(name)
        bytes.append(UInt8(ascii: ">"))
    }

    /// `<name a="…"/>`.
    mutating func empty(_ name: String, _ attributes: Attributes = [:]) {
        startTag(name, attributes)
        raw("/>")
    }

    /// `<name a="…">text</name>`; nothing at all when `text` is nil.
    mutating func text(_ name: String, _ text: String?, _ attributes: Attributes = [:]) {
        guard let text else { return }
        open(name, attributes)
        characters(text)
        close(name)
    }

    mutating func element(_ name: String, _ attributes: Attributes = [:], _ body: (inout XMLWriter) -> Void) {
        open(name, attributes)
        body(&self)
        close(name)
    }

    /// Escaped character data. Characters XML 1.0 cannot carry at all are dropped; a carriage return is written as a
    /// reference so that line-end normalisation does not remove it.
    mutating func characters(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): raw("&amp;")
            case UInt8(ascii: "<"): raw("&lt;")
            case UInt8(ascii: ">"): raw("&gt;")
            case 0x0D: raw("&#13;")
            case 0x09, 0x0A: bytes.append(byte)
            case 0x00..<0x20: continue
            default: bytes.append(byte)
            }
        }
    }

    private mutating func startTag(_ name: String, _ attributes: Attributes) {
        bytes.append(UInt8(ascii: "<"))
        raw(name)
        for (key, value) in attributes {
            guard let value else { continue }
            bytes.append(UInt8(ascii: " "))
            raw(key)
            raw("=\"")
            escapeAttribute(value)
            bytes.append(UInt8(ascii: "\""))
        }
    }

    private mutating func escapeAttribute(_ text: String) {
        XMLEscaping.appendAttributeValue(text, to: &bytes)
    }
}
