/// A record's body as a provider sends it that states its character encoding only in HTTP: re-encoded, without
/// the XML declaration (which would say UTF-8), labelled `Content-Type: …; charset=NAME`. Windows-era systems and
/// integration engines do this; a reader must take the charset from the header to read it at all.
///
/// A character the charset cannot hold goes as a character reference (`&#x2014;`), as such systems write it. The
/// simulator's bodies have ASCII names and no comments, so every such character is in text or an attribute value,
/// where a reference is allowed.
public enum SimulatedCharset: String, Sendable, CaseIterable {
    case latin1 = "iso-8859-1"
    case windows1252 = "windows-1252"
    case utf16LittleEndian = "utf-16le"
    case utf16BigEndian = "utf-16be"

    /// `body` (UTF-8, with an XML declaration or none) in this charset, without its declaration.
    public func transcode(_ body: [UInt8]) -> [UInt8] {
        var text = Substring(String(decoding: body, as: UTF8.self))
        if text.hasPrefix("<?xml"), let end = text.firstRange(of: "?>") {
            text = text[end.upperBound...].drop { $0 == "\n" || $0 == "\r" }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * (self == .latin1 || self == .windows1252 ? 1 : 2))
        for scalar in text.unicodeScalars {
            switch self {
            case .latin1, .windows1252:
                if let byte = byte(for: scalar) {
                    bytes.append(byte)
                } else {
                    bytes += Array("&#x\(String(scalar.value, radix: 16, uppercase: true));".utf8)
                }
            case .utf16LittleEndian, .utf16BigEndian:
                for unit in String(scalar).utf16 {
                    let pair = [UInt8(unit & 0xFF), UInt8(unit >> 8)]
                    bytes += self == .utf16LittleEndian ? pair : pair.reversed()
                }
            }
        }
        return bytes
    }

    /// The single byte for `scalar` in Latin-1 or Windows-1252; nil when it has none.
    private func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 0x80 || (0xA0...0xFF).contains(value) { return UInt8(value) }
        // Latin-1's 0x80–0x9F are C1 controls, never in the simulator's text; Windows-1252 puts printable
        // characters there.
        guard self == .windows1252 else { return nil }
        return Self.windows1252Extras.firstIndex(of: value).map { UInt8(0x80 + $0) }
    }

    /// Windows-1252's characters at 0x80–0x9F, in order (0 where it defines none).
    private static let windows1252Extras: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E,
        0x0178,
    ]
}
