/// Attribute-value escaping shared by every XML writer in the project (the simulator's, FHIR export's).
public enum XMLEscaping {
    /// Appends `text` escaped for a double-quoted attribute value. Characters XML 1.0 cannot carry at all are
    /// dropped; tab, line feed and carriage return become references so attribute normalisation keeps them.
    public static func appendAttributeValue(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): bytes.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): bytes.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): bytes.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): bytes.append(contentsOf: "&quot;".utf8)
            case 0x09: bytes.append(contentsOf: "&#9;".utf8)
            case 0x0A: bytes.append(contentsOf: "&#10;".utf8)
            case 0x0D: bytes.append(contentsOf: "&#13;".utf8)
            case 0x00..<0x20: continue
            default: bytes.append(byte)
            }
        }
    }
}
