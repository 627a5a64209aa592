import XMLSupport

/// Why a provider's response could not be decoded at all.
///
/// Descriptions are shown to callers and written to logs, so they name the problem and where (element,
/// line), never a value from the document: no patient data, no clinical content.
public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The bytes are not acceptable XML: malformed, too large or deep, a DOCTYPE, bad encoding.
        case xml(XMLParseError)
        /// Well-formed XML, but not the kind of document the format expects.
        /// `element` is the root's local name and `namespace` its namespace URI (nil when it has none).
        case unexpectedRoot(element: String, namespace: String?, expected: String)
    }

    public var reason: Reason

    public init(_ reason: Reason) {
        self.reason = reason
    }

    public static func xml(_ error: XMLParseError) -> DecodeError {
        DecodeError(.xml(error))
    }

    /// The parse error underneath, when the document was not acceptable XML.
    public var xmlError: XMLParseError? {
        if case .xml(let error) = reason { error } else { nil }
    }

    /// A fixed label without details, from a small closed set, for metrics and manifests.
    public var shortDescription: String {
        switch reason {
        case .xml(let error):
            switch error.reason {
            case .tooLarge: "xml-too-large"
            case .tooDeep: "xml-too-deep"
            case .doctypeForbidden: "xml-doctype-forbidden"
            case .invalidEncoding, .invalidForCharset: "xml-invalid-encoding"
            case .unsupportedCharset: "xml-unsupported-charset"
            case .malformed: "xml-malformed"
            case .empty: "xml-empty"
            }
        case .unexpectedRoot: "unexpected-root"
        }
    }

    public var description: String {
        switch reason {
        case .xml(let error):
            // libxml2's own message (`detail`) is left out: some of its messages quote names taken from the
            // document (entity references, tags), which a hostile or careless provider can fill with
            // anything. It stays reachable through `xmlError` for debug-level logs.
            return XMLParseError(error.reason, line: error.line).description
        case .unexpectedRoot(let element, let namespace, let expected):
            // Names are structure, not content, but a hostile document can put anything in them (a fuzz test
            // smuggled text through a namespace URI). Only well-known names are echoed; anything else is
            // described, not quoted.
            let known = Self.knownNamespaces[namespace ?? ""]
            let namespaceText = namespace == nil ? "no namespace" : known.map { "namespace \($0)" } ?? "another namespace"
            let elementText = Self.isPlainName(element) ? "<\(element)>" : "an element"
            return "root element is \(elementText) (\(namespaceText)), expected \(expected)"
        }
    }

    private static let knownNamespaces: [String: String] = [
        "http://hl7.org/fhir": "http://hl7.org/fhir", "urn:hl7-org:v3": "urn:hl7-org:v3",
        "http://www.w3.org/1999/xhtml": "http://www.w3.org/1999/xhtml",
    ]

    /// A short ASCII XML name: safe to repeat in a log line.
    private static func isPlainName(_ text: String) -> Bool {
        text.utf8.count <= 40
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}
