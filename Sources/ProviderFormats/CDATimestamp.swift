import CareRecords

extension ClinicalDate {
    /// Reads an HL7 v3 `TS` (`YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+|-ZZZZ]`), as CDA writes every time.
    ///
    /// `20240501143000+0100` reads as `2024-05-01T14:30:00+01:00`, `202405011430` as `2024-05-01T14:30`,
    /// `20240501` as `2024-05-01`. Fractional seconds are dropped (no clinical fact in a shared record turns on
    /// them), an hour without minutes reads as that hour's start, and a zone on a date without a time is
    /// dropped because an ISO 8601 date cannot carry one. Nil when the text is not a valid timestamp.
    public init?(hl7Timestamp text: String) {
        // Surrounding whitespace is a writer's slip, not a different time.
        guard var trimmed = text.trimmedNonEmpty else { return nil }
        // Read in place: a native String's UTF-8 is contiguous, and this runs for nearly every CDA entry.
        guard let date = trimmed.withUTF8({ Self(hl7Timestamp: $0) }) else { return nil }
        self = date
    }

    /// Reads an HL7 v3 `TS` from its UTF-8, already trimmed (as an attribute's value is read in place).
    init?(hl7Timestamp bytes: UnsafeBufferPointer<UInt8>) {
        guard let iso = Self.isoText(hl7: bytes) else { return nil }
        self.init(iso)
    }

    /// The ISO 8601 text for an HL7 v3 `TS` (`YYYY[MM[DD[HH[MM[SS[.S+]]]]]][±ZZZZ]`), or nil when it is not one.
    private static func isoText(hl7 bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var index = 0
        func atDigit() -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }
        /// The next `count` bytes, moving past them, when they are all digits; nil otherwise.
        func digits(_ count: Int) -> Slice<UnsafeBufferPointer<UInt8>>? {
            let start = index
            for _ in 0..<count {
                guard atDigit() else { return nil }
                index += 1
            }
            return bytes[start..<index]
        }

        // The ISO 8601 text, built as bytes (all ASCII) on the stack and made a String once: at most 25 bytes
        // (`YYYY-MM-DDThh:mm:ss+hh:mm`).
        var iso = ISOBytes()
        guard let year = digits(4) else { return nil }
        iso += year
        var hasTime = false
        if atDigit() {
            guard let month = digits(2) else { return nil }
            iso.append(UInt8(ascii: "-"))
            iso += month
            if atDigit() {
                guard let day = digits(2) else { return nil }
                iso.append(UInt8(ascii: "-"))
                iso += day
                if atDigit() {
                    guard let hour = digits(2) else { return nil }
                    hasTime = true
                    iso.append(UInt8(ascii: "T"))
                    iso += hour
                    iso.append(UInt8(ascii: ":"))
                    if atDigit() {
                        guard let minute = digits(2) else { return nil }
                        iso += minute
                        if atDigit() {
                            guard let second = digits(2) else { return nil }
                            iso.append(UInt8(ascii: ":"))
                            iso += second
                            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                                index += 1
                                guard atDigit() else { return nil }
                                while atDigit() { index += 1 }
                            }
                        }
                    } else {
                        iso += "00".utf8
                    }
                }
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index]
            index += 1
            guard let hours = digits(2), let minutes = digits(2) else { return nil }
            if hasTime {
                iso.append(sign)
                iso += hours
                iso.append(UInt8(ascii: ":"))
                iso += minutes
            }
        }
        guard index == bytes.count else { return nil }
        return iso.string
    }
}

/// Up to 32 ASCII bytes on the stack, appended to as `isoText` writes the ISO 8601 form.
private struct ISOBytes {
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var count = 0

    mutating func append(_ byte: UInt8) {
        precondition(count < 32, "ISO 8601 text longer than 32 bytes")
        withUnsafeMutableBytes(of: &storage) { $0[count] = byte }
        count += 1
    }

    static func += (iso: inout ISOBytes, bytes: some Sequence<UInt8>) {
        for byte in bytes { iso.append(byte) }
    }

    var string: String {
        var storage = storage
        return withUnsafeBytes(of: &storage) { String(decoding: $0.prefix(count), as: UTF8.self) }
    }
}
