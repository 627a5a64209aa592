import CareRecords
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import XMLSupport

/// Reading CDA R2 elements and their HL7 v3 datatypes (II, TS, IVL_TS, PQ).
///
/// Like the FHIR readers these are total: anything missing, blank or `nullFlavor`ed reads as nil, so a sparse
/// or odd document yields fewer fields rather than a failure.
extension XMLElement {
    /// The first child in the CDA namespace with this local name.
    ///
    /// Names are matched with their namespace because the `sdtc` extensions reuse core names (`sdtc:id`,
    /// `sdtc:statusCode`, `sdtc:birthTime` on relatives), and a local-name match could read an extension's
    /// value as the core one.
    func cda(_ name: String) -> XMLElement? {
        child(name, namespace: CDADecoder.namespace)
    }

    /// Every child in the CDA namespace with this local name, in document order (found as it is walked).
    func cdaChildren(_ name: String) -> NamedChildren {
        children(named: name, namespace: CDADecoder.namespace)
    }

    // Paths of CDA child names, followed through first matching children. Fixed arities rather than a
    // variadic list, which would allocate an array on every call of these hot reads.

    func cda(at first: String, _ second: String) -> XMLElement? {
        cda(first)?.cda(second)
    }

    func cda(at first: String, _ second: String, _ third: String) -> XMLElement? {
        cda(first)?.cda(second)?.cda(third)
    }

    func cda(at first: String, _ second: String, _ third: String, _ fourth: String) -> XMLElement? {
        cda(first)?.cda(second)?.cda(third)?.cda(fourth)
    }

    /// An attribute's value, trimmed; nil when absent or blank.
    func cdaAttribute(_ name: String) -> String? {
        attribute(name)?.trimmedNonEmpty
    }

    /// Calls `body` with an attribute's value as `cdaAttribute` reads it (trimmed), as UTF-8, without making a
    /// String of it; nil when absent or blank. For values that are compared, looked up or parsed, not kept:
    /// most of what a CDA reader reads. Only a value with white space (or non-ASCII) at an end is made a String,
    /// to be trimmed as `cdaAttribute` trims it.
    func withCDAAttribute<Result>(_ name: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        var needsTrimming = false
        let direct: Result?? = withAttribute(name) { bytes -> Result? in
            guard let first = bytes.first, let last = bytes.last else { return nil }
            guard first.isASCIINonSpace, last.isASCIINonSpace else {
                needsTrimming = true
                return nil
            }
            return body(bytes)
        }
        guard let direct else { return nil }
        guard needsTrimming else { return direct }
        guard var trimmed = cdaAttribute(name) else { return nil }
        return trimmed.withUTF8(body)
    }

    /// True when the attribute, trimmed, is `value`: `cdaAttribute(name) == value` without making a String.
    func cdaAttribute(_ name: String, is value: String) -> Bool {
        withCDAAttribute(name) { $0.hasSameBytes(as: value) } ?? false
    }

    /// True when the element says its value is missing (`nullFlavor="NI"`, `"UNK"` …).
    var isNullFlavored: Bool { hasAttribute("nullFlavor") }

    /// The `@code` of a CS or CD child (`statusCode`), unless absent or `nullFlavor`ed.
    func cdaCode(_ name: String) -> String? {
        guard let child = cda(name), !child.isNullFlavored else { return nil }
        return child.cdaAttribute("code")
    }

    /// True when the act or observation states that it did *not* happen or is *not* present
    /// (`negationInd="true"`): "no known allergies", a medicine not taken.
    var isNegated: Bool {
        withCDAAttribute("negationInd") { bytes in
            // `true` in any case: ASCII letters compare equal once their case bit is set.
            bytes.count == 4 && zip(bytes, "true".utf8).allSatisfy { $0 | 0x20 == $1 }
        } ?? false
    }

    /// This element read as an II; nil when it is `nullFlavor`ed or has no root.
    var instanceIdentifier: CDAInstanceIdentifier? {
        guard !isNullFlavored, let root = cdaAttribute("root") else { return nil }
        return CDAInstanceIdentifier(root: root, extension: cdaAttribute("extension"))
    }

    /// Every readable `id` child.
    var instanceIdentifiers: [CDAInstanceIdentifier] {
        cdaChildren("id").compactMap(\.instanceIdentifier)
    }

    /// When this TS or IVL_TS element places the fact: its own `@value`, else the interval's start
    /// (`low`), else its `center`. An end alone (`high`) does not say when something began, so it is not used.
    var timestamp: ClinicalDate? {
        guard !isNullFlavored else { return nil }
        // A value that is there (non-blank) but not a timestamp reads as no date, without falling back: `date`
        // gives nil for an absent or blank value, .some(nil) for one that is not a timestamp.
        func date(_ element: XMLElement?) -> ClinicalDate?? {
            guard let element, !element.isNullFlavored else { return nil }
            return element.withCDAAttribute("value", ClinicalDate.init(hl7Timestamp:))
        }
        guard let found = date(self) ?? date(cda("low")) ?? date(cda("center")) else { return nil }
        return found
    }

    /// The first `effectiveTime` that places the fact in time. A medicine's second `effectiveTime` is
    /// usually its frequency (a PIVL_TS with a `period`), which is not a date.
    var effectiveDate: ClinicalDate? {
        for time in cdaChildren("effectiveTime") where time.cda("period") == nil {
            if let date = time.timestamp { return date }
        }
        return nil
    }

    /// This element read as a PQ (or INT/REAL, which carry a bare `@value`): the decimal as written, and the
    /// unit when there is one.
    var physicalQuantity: Quantity? {
        guard !isNullFlavored, let value = cdaAttribute("value") else { return nil }
        return Quantity(value: value, unit: cdaAttribute("unit"))
    }

    /// The local part of `xsi:type` (`PQ`, `CD`, `IVL_TS`), upper-cased; nil when the element has none.
    var xsiType: String? {
        guard let type = attribute("type", namespace: CDADecoder.xsiNamespace)?.trimmedNonEmpty else { return nil }
        let utf8 = type.utf8
        let local = utf8.lastIndex(of: UInt8(ascii: ":")).map { utf8[utf8.index(after: $0)...] } ?? utf8[...]
        guard local.allSatisfy({ $0 < 0x80 }) else {
            return String(type.split(separator: ":").last ?? Substring(type)).uppercased()
        }
        // HL7 datatype names are short ASCII: upper-cased byte by byte, without the copies `split` and
        // `uppercased` make.
        return String(unsafeUninitializedCapacity: local.count) { buffer in
            for (offset, byte) in local.enumerated() {
                buffer[offset] = (0x61...0x7A).contains(byte) ? byte - 0x20 : byte
            }
            return local.count
        }
    }

    /// This element's words: its character data and its descendants', in order, with white space collapsed
    /// to single spaces; nil when there are none.
    ///
    /// The parsed tree keeps an element's own character data apart from its children, so where the two are
    /// interleaved (`Take <b>two</b> tablets`) their order is lost. Such mixed content reads as nil rather
    /// than as words in a wrong order: a dose instruction with its words shuffled is worse than none.
    var plainText: String? {
        // Most text is one leaf's ASCII (a title, a name, a display): collapse its white space byte by byte.
        // So is an entry's own text beside an empty reference (`dose words<reference value="#m1"/>`): children
        // without words add none, and make no mixed content.
        if children.allSatisfy(\.isEmptyLeaf), let collapsed = text.collapsingASCIIWhitespace {
            return collapsed.isEmpty ? nil : collapsed
        }
        var words: [Substring] = []
        guard appendPlainText(to: &words), !words.isEmpty else { return nil }
        return words.joined(separator: " ")
    }

    private func appendPlainText(to words: inout [Substring]) -> Bool {
        let own = text.whitespaceSeparatedWords
        var childWords: [Substring] = []
        for child in children {
            guard child.appendPlainText(to: &childWords) else { return false }
        }
        if !own.isEmpty && !childWords.isEmpty { return false }
        words += own
        words += childWords
        return true
    }
}

/// An HL7 v3 instance identifier: a `root` (an OID or UUID naming the issuer) and an optional `extension`
/// (the issuer's own value).
struct CDAInstanceIdentifier: Hashable {
    var root: String
    var `extension`: String?

    /// `root^extension`, or the root alone: the spelling used in source ids.
    var key: String {
        guard `extension` != nil else { return root }
        var key = ""
        appendKey(to: &key)
        return key
    }

    /// Appends `key` to `text`.
    func appendKey(to text: inout String) {
        text += root
        if let `extension` {
            text += "^"
            text += `extension`
        }
    }

    /// As the merge compares identifiers. An OID root becomes `urn:oid:<root>` with the extension (or the
    /// root itself) as the value; a UUID root follows FHIR's mapping of II, so the same id written by a FHIR
    /// system compares equal.
    var entryIdentifier: EntryIdentifier {
        if Self.isUUID(root) {
            let uuid = "urn:uuid:" + root.lowercased()
            return `extension`.map { EntryIdentifier(system: uuid, value: $0) }
                ?? EntryIdentifier(system: "urn:ietf:rfc:3986", value: uuid)
        }
        return EntryIdentifier(system: "urn:oid:" + root, value: `extension` ?? root)
    }

    /// True for `8-4-4-4-12` hex digits. Read as bytes: this runs for every id of every document, and most
    /// roots are OIDs, told apart by their length alone.
    private static func isUUID(_ text: String) -> Bool {
        guard text.utf8.count == 36 else { return false }
        for (offset, byte) in text.utf8.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isHex =
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
                guard isHex else { return false }
            }
        }
        return true
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// True when these bytes are `string`'s UTF-8, compared with `memcmp` (a native String's UTF-8 is read in
    /// place; a bridged one is copied first).
    func hasSameBytes(as string: String) -> Bool {
        var string = string
        return string.withUTF8 { other in
            other.count == count && (count == 0 || memcmp(other.baseAddress!, baseAddress!, count) == 0)
        }
    }
}
