import CareRecords
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

    /// Every child in the CDA namespace with this local name, in document order.
    func cdaChildren(_ name: String) -> [XMLElement] {
        children(name, namespace: CDADecoder.namespace)
    }

    /// Follows a path of CDA child names through first matching children.
    func cda(at path: String...) -> XMLElement? {
        var current = self
        for name in path {
            guard let next = current.cda(name) else { return nil }
            current = next
        }
        return current
    }

    /// An attribute's value, trimmed; nil when absent or blank.
    func cdaAttribute(_ name: String) -> String? {
        attribute(name)?.trimmedNonEmpty
    }

    /// True when the element says its value is missing (`nullFlavor="NI"`, `"UNK"` …).
    var isNullFlavored: Bool { attribute("nullFlavor") != nil }

    /// The `@code` of a CS or CD child (`statusCode`), unless absent or `nullFlavor`ed.
    func cdaCode(_ name: String) -> String? {
        guard let child = cda(name), !child.isNullFlavored else { return nil }
        return child.cdaAttribute("code")
    }

    /// True when the act or observation states that it did *not* happen or is *not* present
    /// (`negationInd="true"`): "no known allergies", a medicine not taken.
    var isNegated: Bool { attribute("negationInd")?.trimmedNonEmpty?.lowercased() == "true" }

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
        if let value = cdaAttribute("value") { return ClinicalDate(hl7Timestamp: value) }
        for bound in ["low", "center"] {
            if let element = cda(bound), !element.isNullFlavored, let value = element.cdaAttribute("value") {
                return ClinicalDate(hl7Timestamp: value)
            }
        }
        return nil
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
        return String(type.split(separator: ":").last ?? Substring(type)).uppercased()
    }

    /// This element's words: its character data and its descendants', in order, with white space collapsed
    /// to single spaces; nil when there are none.
    ///
    /// The parsed tree keeps an element's own character data apart from its children, so where the two are
    /// interleaved (`Take <b>two</b> tablets`) their order is lost. Such mixed content reads as nil rather
    /// than as words in a wrong order: a dose instruction with its words shuffled is worse than none.
    var plainText: String? {
        // Most text is one leaf's ASCII (a title, a name, a display): collapse its white space byte by byte.
        if children.isEmpty, let collapsed = text.collapsingASCIIWhitespace {
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
    var key: String { `extension`.map { "\(root)^\($0)" } ?? root }

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

    private static func isUUID(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count == 36 else { return false }
        for (offset, scalar) in scalars.enumerated() {
            if [8, 13, 18, 23].contains(offset) {
                guard scalar == "-" else { return false }
            } else {
                guard scalar.properties.isASCIIHexDigit else { return false }
            }
        }
        return true
    }
}
