import CareRecords

/// FHIR R4's primitive rules (the regular expressions of the R4 specification and schema), applied to what
/// providers sent: values are made valid where that loses nothing clinically, and otherwise refused (nil).
enum FHIRPrimitive {
    /// A `string`: XML 1.0 cannot carry most control characters (and FHIR strings should not hold them), so
    /// they are removed; leading and trailing whitespace is trimmed; nil when nothing is left.
    static func string(_ text: String) -> String? {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where isXMLCharacter(scalar) { scalars.append(scalar) }
        let trimmed = String(scalars).trimmingXMLWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A `code`: `[^\s]+(\s[^\s]+)*` — no leading, trailing or repeated whitespace.
    static func code(_ text: String) -> String? {
        guard let text = string(text) else { return nil }
        let words = text.split(whereSeparator: { $0.unicodeScalars.allSatisfy(isXMLWhitespace) })
        return words.isEmpty ? nil : words.joined(separator: " ")
    }

    /// A `uri`: `\S*`. A system with spaces is no URI at all, so it is refused rather than guessed at.
    static func uri(_ text: String) -> String? {
        guard let text = string(text), !text.unicodeScalars.contains(where: isXMLWhitespace) else { return nil }
        return text
    }

    /// An `id`: `[A-Za-z0-9\-\.]{1,64}`. Anything else is mapped to a valid id deterministically: other
    /// characters become `-`, and when anything changed a hash of the original is appended (keeping the result
    /// within 64 characters) so that two different ids cannot collide.
    static func id(_ text: String) -> String {
        let isValid = !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy(isIDByte)
        if isValid { return text }
        let hash = fnv1a(text)
        let mapped = String(decoding: text.utf8.prefix(47).map { isIDByte($0) ? $0 : UInt8(ascii: "-") }, as: UTF8.self)
        return mapped.isEmpty ? hash : mapped + "-" + hash
    }

    /// A `dateTime`: the provider's text when FHIR allows it; a date-time FHIR does not (no seconds, or no time
    /// zone, which FHIR requires with any time) keeps its calendar day rather than being invented a zone.
    static func dateTime(_ date: ClinicalDate) -> String? {
        let text = date.text
        guard !text.hasPrefix("0000") else { return nil }
        guard date.precision == .time else { return text }
        return isFullDateTime(text) ? text : date.day
    }

    /// An `instant`: only a date-time with seconds and a time zone; nothing less precise can be one.
    static func instant(_ date: ClinicalDate) -> String? {
        guard date.precision == .time, !date.text.hasPrefix("0000"), isFullDateTime(date.text) else { return nil }
        return date.text
    }

    /// A `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a date-time keeps its day.
    static func date(_ date: ClinicalDate) -> String? {
        guard !date.text.hasPrefix("0000") else { return nil }
        return date.precision == .time ? date.day : date.text
    }

    /// A `decimal` in FHIR's lexical form `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, after the harmless
    /// repairs a provider's number may need (`+5`, `.5`, `05`, `5.`); nil when it is not a number.
    static func decimal(_ text: String) -> String? {
        var bytes = Array(text.utf8)
        while let first = bytes.first, isXMLWhitespace(Unicode.Scalar(first)) { bytes.removeFirst() }
        while let last = bytes.last, isXMLWhitespace(Unicode.Scalar(last)) { bytes.removeLast() }
        var sign: [UInt8] = []
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            if first == UInt8(ascii: "-") { sign = [first] }
            bytes.removeFirst()
        }
        if bytes.first == UInt8(ascii: ".") { bytes.insert(UInt8(ascii: "0"), at: 0) }
        while bytes.count > 1, bytes[0] == UInt8(ascii: "0"), isDigit(bytes[1]) { bytes.removeFirst() }
        if let dot = bytes.firstIndex(of: UInt8(ascii: ".")),
            dot + 1 == bytes.count || !isDigit(bytes[dot + 1])
        {
            bytes.remove(at: dot)
        }
        let candidate = sign + bytes
        return isDecimal(candidate) ? String(decoding: candidate, as: UTF8.self) : nil
    }

    // MARK: - Lexical checks

    private static func isDecimal(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }

    /// `YYYY-MM-DDThh:mm:ss(.f+)?(Z|(+|-)hh:mm)` with FHIR's zone range (up to 13:59, or exactly 14:00). The
    /// rest of the shape (valid month, day, hour) `ClinicalDate` has already checked.
    private static func isFullDateTime(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[16] == UInt8(ascii: ":") else { return false }
        if bytes.last == UInt8(ascii: "Z") { return true }
        guard bytes.count >= 25 else { return false }
        let zone = bytes[(bytes.count - 6)...]
        guard zone.first == UInt8(ascii: "+") || zone.first == UInt8(ascii: "-") else { return false }
        let hours = Int(bytes[bytes.count - 5] - 48) * 10 + Int(bytes[bytes.count - 4] - 48)
        let minutes = Int(bytes[bytes.count - 2] - 48) * 10 + Int(bytes[bytes.count - 1] - 48)
        return hours <= 13 || (hours == 14 && minutes == 0)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    static func isXMLWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
    }

    /// XML 1.0's `Char` production.
    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// 64-bit FNV-1a as 16 hex digits.
    private static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension String {
    fileprivate func trimmingXMLWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !FHIRPrimitive.isXMLWhitespace($0) }),
            let end = scalars.lastIndex(where: { !FHIRPrimitive.isXMLWhitespace($0) })
        else { return "" }
        return String(scalars[start...end])
    }
}
