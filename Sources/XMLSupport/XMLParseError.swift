import CLibXML2

/// Why a document was refused. `description` is short, names the problem and the line, and never quotes the
/// document, so it is safe to return to a caller and to log.
public struct XMLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The document is larger than the limit.
        case tooLarge(limit: Int)
        /// Elements nest deeper than the limit.
        case tooDeep(limit: Int)
        /// A `<!DOCTYPE …>` was present; DTDs (and with them external and expanding entities) are refused.
        case doctypeForbidden
        /// The bytes are not well-formed UTF-8 (or the declared encoding does not match them).
        case invalidEncoding
        /// The transport's charset (HTTP `Content-Type`) is not an encoding this libxml2 can read, for a
        /// document that states no encoding of its own.
        case unsupportedCharset
        /// The bytes are not valid in the transport's charset.
        case invalidForCharset
        /// Not well-formed XML: truncated, mismatched tags, bad characters …
        case malformed
        /// No document at all.
        case empty
    }

    public var reason: Reason
    /// 1-based line where the parser stopped, when known.
    public var line: Int?
    /// libxml2's own message (first line, trimmed), when there is one. It can quote names from the document
    /// (an undefined entity's, a mismatched tag's), so it is kept out of `description`: log it at debug only.
    public var detail: String?

    public init(_ reason: Reason, line: Int? = nil, detail: String? = nil) {
        self.reason = reason
        self.line = line
        self.detail = detail
    }

    public var description: String {
        var text: String
        switch reason {
        case .tooLarge(let limit): text = "document larger than \(limit) bytes"
        case .tooDeep(let limit): text = "elements nested deeper than \(limit)"
        case .doctypeForbidden: text = "DOCTYPE not allowed (DTDs and entities are refused)"
        case .invalidEncoding: text = "invalid UTF-8"
        case .unsupportedCharset: text = "the Content-Type's charset is not an encoding this gateway can read"
        case .invalidForCharset: text = "bytes not valid in the Content-Type's charset"
        case .malformed: text = "malformed XML"
        case .empty: text = "empty document"
        }
        if let line { text += " at line \(line)" }
        return text
    }
}

extension XMLParseError {
    /// The parse error for a libxml2 structured error: its reason from the error code, its line, and its message
    /// (first line, trimmed, capped) kept as `detail` only.
    init(libxml2 error: UnsafePointer<xmlError>) {
        let code = error.pointee.code
        let reason: Reason =
            switch code {
            case Int32(XML_ERR_INVALID_CHAR.rawValue), Int32(XML_ERR_INVALID_ENCODING.rawValue),
                Int32(XML_ERR_UNSUPPORTED_ENCODING.rawValue), Int32(XML_ERR_INVALID_CHARREF.rawValue):
                .invalidEncoding
            case Int32(XML_ERR_DOCUMENT_EMPTY.rawValue): .empty
            default: .malformed
            }
        let message = error.pointee.message.map { String(cString: $0) } ?? ""
        let firstLine = message.split(separator: "\n", maxSplits: 1).first ?? ""
        let trimmed = firstLine.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        self.init(reason, line: Int(error.pointee.line), detail: String(String(trimmed).prefix(160)))
    }
}

extension XMLParseError {
    /// This error for a document read in a transport's charset: bytes invalid in it, said in the charset's terms
    /// rather than UTF-8's. (A charset libxml2 does not know never gets this far: `TransportCharset` refuses it.)
    func underCharset(_ charset: String) -> XMLParseError {
        guard reason == .invalidEncoding else { return self }
        return XMLParseError(.invalidForCharset, line: line, detail: "charset \(charset): \(detail ?? "")")
    }
}
