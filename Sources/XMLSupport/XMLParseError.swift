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
        case .malformed: text = "malformed XML"
        case .empty: text = "empty document"
        }
        if let line { text += " at line \(line)" }
        return text
    }
}
