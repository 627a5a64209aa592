/// A date or date-time as providers send it in ISO 8601 / FHIR form, possibly partial:
/// `2024`, `2024-03`, `2024-03-05`, `2024-03-05T14:30:00Z`, `2024-03-05T14:30:00.123+01:00`.
///
/// Keeps the provider's text unchanged for display, and derives what the gateway needs: a sort key (the
/// earliest instant the text can mean, in seconds since 1970 UTC) and the calendar day for matching.
public struct ClinicalDate: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public enum Precision: Int, Sendable, Comparable {
        case year, month, day, time
        public static func < (lhs: Precision, rhs: Precision) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The text as the provider wrote it.
    public let text: String
    public let precision: Precision
    /// Seconds since 1970-01-01T00:00:00Z of the earliest instant `text` can mean (dates count as UTC midnight).
    public let sortKey: Int64
    /// `YYYY-MM-DD` as written (the provider's local day), or nil when less precise than a day.
    public let day: String?

    /// Parses `text`; nil when it is not an ISO 8601 date or date-time.
    public init?(_ text: String) {
        // Read in place (a native String's UTF-8 is contiguous) rather than copied into an array: the decoders
        // parse a date or several for nearly every entry.
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self.text = text
        precision = parsed.precision
        sortKey = parsed.sortKey
        day = parsed.day
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (
        precision: Precision, sortKey: Int64, day: String?
    )? {
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<width {
                let byte = bytes[index + offset]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += width
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        guard let year = number(4) else { return nil }
        var month = 1, dayOfMonth = 1, hour = 0, minute = 0, second = 0, offsetSeconds = 0
        var precision = Precision.year
        if expect(UInt8(ascii: "-")) {
            guard let m = number(2), (1...12).contains(m) else { return nil }
            month = m
            precision = .month
            if expect(UInt8(ascii: "-")) {
                guard let d = number(2), (1...daysIn(month: m, year: year)).contains(d) else { return nil }
                dayOfMonth = d
                precision = .day
                if expect(UInt8(ascii: "T")) {
                    guard let h = number(2), h < 24, expect(UInt8(ascii: ":")), let mi = number(2), mi < 60 else {
                        return nil
                    }
                    hour = h
                    minute = mi
                    if expect(UInt8(ascii: ":")) {
                        guard let s = number(2), s <= 60 else { return nil }
                        second = min(s, 59)
                        if expect(UInt8(ascii: ".")) {
                            let start = index
                            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
                            guard index > start else { return nil }
                        }
                    }
                    precision = .time
                    if expect(UInt8(ascii: "Z")) {
                        offsetSeconds = 0
                    } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                        let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                        index += 1
                        guard let oh = number(2), oh <= 14, expect(UInt8(ascii: ":")), let om = number(2), om < 60 else {
                            return nil
                        }
                        offsetSeconds = sign * (oh * 3600 + om * 60)
                    }
                }
            }
        }
        guard index == bytes.count else { return nil }

        let days = daysFromCivil(year: year, month: month, day: dayOfMonth)
        let sortKey = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        // `YYYY-MM-DD` is ASCII, so its ten bytes are its ten characters.
        let day =
            precision >= .day ? String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<10]), as: UTF8.self) : nil
        return (precision, sortKey, day)
    }

    public var description: String { text }

    /// Earlier first; equal instants order by precision, then text, so sorting is total and deterministic.
    public static func < (lhs: ClinicalDate, rhs: ClinicalDate) -> Bool {
        (lhs.sortKey, lhs.precision.rawValue, lhs.text) < (rhs.sortKey, rhs.precision.rawValue, rhs.text)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = ClinicalDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    private static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
