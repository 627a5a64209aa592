import CareRecords
import XMLSupport

/// Reading FHIR R4 datatypes from their XML form.
///
/// In FHIR XML every primitive sits in a `value` attribute (`<status value="final"/>`), and complex types are
/// child elements. These readers are total: anything missing or blank reads as nil, so a sparse or odd
/// resource yields fewer fields rather than a failure.
extension XMLElement {
    /// The primitive value of the first child with this name, trimmed; nil when absent or blank.
    func fhirValue(_ name: String) -> String? {
        child(name)?.fhirValue
    }

    /// The primitive value at a path of child names: `fhirValue(at: "effectivePeriod", "start")`.
    func fhirValue(at path: String...) -> String? {
        var current = self
        for name in path {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current.fhirValue
    }

    /// This element's own primitive value, trimmed; nil when absent or blank.
    var fhirValue: String? {
        attribute("value")?.trimmedNonEmpty
    }

    /// The best coding of the CodeableConcept child with this name (see `bestCoding`).
    func codeableConcept(_ name: String) -> Coding? {
        child(name)?.bestCoding
    }

    /// Reads this element as a FHIR `Coding`; nil when it has neither a code nor a display.
    var coding: Coding? {
        let code = fhirValue("code")
        let display = fhirValue("display")
        guard code != nil || display != nil else { return nil }
        return Coding(system: fhirValue("system"), code: code, display: display)
    }

    /// Reads this element as a CodeableConcept and picks the coding other providers are most likely to share.
    ///
    /// National terminologies come first because the merge matches entries across providers by code:
    /// SNOMED CT, then dm+d, then LOINC, then whatever coding came first. A coding without a display
    /// borrows the concept's `text`; a concept with only `text` reads as a display-only coding, so the
    /// words a clinician typed are not lost.
    var bestCoding: Coding? {
        // One pass, keeping the best so far: national systems by rank (a coding with a code only), then the
        // first coding; the earlier wins a tie.
        var chosen: Coding?
        var chosenRank = Int.max
        for child in children where child.isNamed("coding") {
            guard let coding = child.coding else { continue }
            let rank =
                coding.code == nil
                ? Self.preferredCodeSystems.count
                : Self.preferredCodeSystems.firstIndex { $0 == coding.system } ?? Self.preferredCodeSystems.count
            if rank < chosenRank {
                chosen = coding
                chosenRank = rank
                if rank == 0 { break }
            }
        }
        guard var chosen else { return fhirValue("text").map { Coding(display: $0) } }
        if chosen.display == nil { chosen.display = fhirValue("text") }
        return chosen
    }

    private static let preferredCodeSystems = [Coding.System.snomedCT, Coding.System.dmd, Coding.System.loinc]

    /// Reads this element as a FHIR `Quantity`: the decimal as written, and the human unit, else the UCUM code.
    var quantity: Quantity? {
        guard let value = fhirValue("value") else { return nil }
        return Quantity(value: value, unit: fhirValue("unit") ?? fhirValue("code"))
    }

    /// This element as a FHIR `Quantity` in words: `400 milligram`, the value alone without a unit.
    var quantityText: String? {
        quantity.map { quantity in quantity.unit.map { "\(quantity.value) \($0)" } ?? quantity.value }
    }

    /// Every `identifier` child that has both a system and a value.
    ///
    /// An identifier without a system means nothing outside the provider that issued it, and the merge treats
    /// equal identifiers as the same fact, so such identifiers are left out rather than risk false matches.
    var identifiers: [EntryIdentifier] {
        // Read for every entry, and most resources have none: an empty array costs no allocation.
        var found: [EntryIdentifier] = []
        for child in children where child.isNamed("identifier") {
            if let identifier = child.identifier { found.append(identifier) }
        }
        return found
    }

    /// Reads this element as a FHIR `Identifier`; nil without both a system and a value.
    var identifier: EntryIdentifier? {
        guard let system = fhirValue("system"), let value = fhirValue("value") else { return nil }
        return EntryIdentifier(system: system, value: value)
    }
}

/// The first of the candidates that is a valid ISO 8601 date or date-time. A provider's unparseable date is
/// dropped rather than failing the entry, and the next candidate gets its chance. Candidates are read only
/// until one gives a date: usually the first does, and each costs a search of the resource's children.
func firstDate(
    _ first: @autoclosure () -> String?, _ second: @autoclosure () -> String? = nil,
    _ third: @autoclosure () -> String? = nil, _ fourth: @autoclosure () -> String? = nil
) -> ClinicalDate? {
    func date(_ text: String?) -> ClinicalDate? { text.flatMap { ClinicalDate($0) } }
    return date(first()) ?? date(second()) ?? date(third()) ?? date(fourth())
}

extension String {
    /// The text without surrounding whitespace, or nil when nothing is left.
    var trimmedNonEmpty: String? {
        // Fast path for the usual value with nothing to trim: a first and last byte that are ASCII and not white
        // space begin and end characters that are not white space (`Character.isWhitespace` looks at a
        // character's first scalar, and no scalar that can join an ASCII one into a character is white space).
        if let first = utf8.first, let last = utf8.last, first.isASCIINonSpace, last.isASCIINonSpace { return self }
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return nil }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }

    /// True when the text contains `word` (lower-case ASCII) in any case: `lowercased().contains(word)`, but
    /// without making a lower-cased copy when the text is ASCII (as drug and allergy names nearly always are).
    func containsIgnoringCase(_ word: String) -> Bool {
        // As `contains`: no string contains the empty string.
        guard !word.isEmpty else { return false }
        var text = self
        let found = text.withUTF8 { bytes -> Bool? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            let needle = word.utf8
            guard bytes.count >= needle.count else { return false }
            for start in 0...(bytes.count - needle.count)
            where zip(bytes[start...], needle).allSatisfy({ Self.asciiLowercase($0) == $1 }) {
                return true
            }
            return false
        }
        return found ?? lowercased().contains(word)
    }

    private static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    /// The words of ASCII text joined by single spaces (`whitespaceSeparatedWords.joined(separator: " ")`),
    /// made byte by byte, and the text itself when it is already so; nil when the text is not all ASCII.
    var collapsingASCIIWhitespace: String? {
        var text = self
        return text.withUTF8 { bytes -> String? in
            var changed = false
            var previousWasSpace = true
            for byte in bytes {
                guard byte < 0x80 else { return nil }
                if byte.isASCIIWhitespace {
                    // A run of white space, a leading one, or anything but a plain space is rewritten.
                    if previousWasSpace || byte != 0x20 { changed = true }
                    previousWasSpace = true
                } else {
                    previousWasSpace = false
                }
            }
            if previousWasSpace && !bytes.isEmpty { changed = true }
            guard changed else { return self }
            var collapsed: [UInt8] = []
            collapsed.reserveCapacity(bytes.count)
            for byte in bytes {
                if byte.isASCIIWhitespace {
                    if let last = collapsed.last, last != 0x20 { collapsed.append(0x20) }
                } else {
                    collapsed.append(byte)
                }
            }
            if collapsed.last == 0x20 { collapsed.removeLast() }
            return String(decoding: collapsed, as: UTF8.self)
        }
    }

    /// The words of the text: `split(whereSeparator: \.isWhitespace)`, without breaking ASCII text into
    /// characters. In ASCII every character is one byte (CR LF aside, which is white space either way), so
    /// splitting the bytes finds the same words.
    var whitespaceSeparatedWords: [Substring] {
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return split(whereSeparator: \.isWhitespace) }
        return utf8.split(whereSeparator: \.isASCIIWhitespace).map { self[$0.startIndex..<$0.endIndex] }
    }
}

extension UInt8 {
    /// The ASCII bytes `Character.isWhitespace` counts as white space: tab to carriage return, and space.
    var isASCIIWhitespace: Bool {
        self == 0x20 || (self >= 0x09 && self <= 0x0D)
    }

    /// An ASCII byte that is not white space.
    var isASCIINonSpace: Bool {
        self < 0x80 && !isASCIIWhitespace
    }
}
