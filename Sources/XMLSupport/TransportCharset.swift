import CLibXML2

/// The character encoding a transport declares for a document (HTTP's `Content-Type: …; charset=…`), and when
/// it applies.
///
/// A document that states its own encoding (a byte order mark, UTF-16 or UTF-32 that libxml2 recognises from its
/// first bytes, or an XML declaration with `encoding="…"`) is read as it says, whatever the header says: web
/// servers add a default `charset` that is often wrong, and following it would not refuse the document but
/// silently misread its non-ASCII text (a medicine's or a person's name). A document that states nothing is
/// UTF-8 by XML's rules unless the transport says otherwise; that is the one case the charset decides.
public enum TransportCharset {
    /// The encoding libxml2 must be told for `document`: nil when it is UTF-8 (or ASCII, read as UTF-8) or
    /// states its own. A charset that is not an encoding name (1–40 letters, digits, `-_.:+`), or one this libxml2
    /// cannot convert, is refused here, the one place that decides it, named in `detail` only, as everything a peer
    /// sends is.
    public static func encoding(of document: [UInt8], declared charset: String?) throws(XMLParseError) -> String? {
        guard let charset else { return nil }
        let name = charset.lowercased()
        if ["utf-8", "utf8", "us-ascii", "ascii"].contains(name) || statesItsEncoding(document) { return nil }
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || "-_.:+".utf8.contains(byte)
        }
        guard allowed, (1...40).contains(name.utf8.count), let handler = xmlFindCharEncodingHandler(name) else {
            throw XMLParseError(.unsupportedCharset, detail: "charset \(charset.prefix(40))")
        }
        // Only asked whether it exists: a converter opened for the question (iconv's) is closed again.
        xmlCharEncCloseFunc(handler)
        return name
    }

    /// True when the document says how it is encoded: a byte order mark, the first bytes by which libxml2 knows
    /// UTF-16 or UTF-32 without one (`<?` or `<` in them), or an XML declaration naming an encoding.
    public static func statesItsEncoding(_ document: [UInt8]) -> Bool {
        let head = Array(document.prefix(4))
        let recognised: [[UInt8]] = [
            [0xEF, 0xBB, 0xBF], [0xFE, 0xFF], [0xFF, 0xFE],
            [0x00, 0x3C, 0x00, 0x3F], [0x3C, 0x00, 0x3F, 0x00], [0x00, 0x00, 0x00, 0x3C], [0x3C, 0x00, 0x00, 0x00],
        ]
        if recognised.contains(where: head.starts(with:)) { return true }
        // `<?xml` then pseudo-attributes up to `?>`: a declaration is short, so only its first 200 bytes are read.
        let declaration = Array(document.prefix(200))
        guard declaration.starts(with: Array("<?xml".utf8)), declaration.count > 5,
            [0x20, 0x09, 0x0A, 0x0D].contains(declaration[5])
        else { return false }
        let end = declaration.indices.dropFirst(5).first { declaration[$0] == UInt8(ascii: "?") } ?? declaration.count
        let keyword = Array("encoding".utf8)
        return declaration[5..<end].indices.contains { start in
            declaration[start..<end].starts(with: keyword)
        }
    }
}
