/// A validated NHS number: ten digits whose last is the modulus-11 check digit of the first nine.
///
/// Accepts the forms people type: `9434765919`, `943 476 5919`, `943-476-5919`. Always stored and printed
/// as ten plain digits. Its `description` is the number itself, so never interpolate one into a log line
/// above debug level.
public struct NHSNumber: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// Ten ASCII digits.
    public let digits: String

    public init(_ text: String) throws(NHSNumberError) {
        // Read as bytes into a fixed buffer: this runs for every query and every document a provider returns.
        // A byte ≥ 0x80 begins a scalar that is neither a digit nor a separator, so it is refused as one.
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard count < 10 else { throw .wrongLength(count + 1) }
                withUnsafeMutableBytes(of: &digits) { $0[count] = byte }
                count += 1
            case UInt8(ascii: " "), UInt8(ascii: "-"):
                continue
            default:
                throw .invalidCharacter
            }
        }
        guard count == 10 else { throw .wrongLength(count) }
        let (check, written) = withUnsafeBytes(of: &digits) { ascii in
            (Self.checkDigit(ascii.prefix(9).lazy.map { $0 - 48 }), ascii[9] - 48)
        }
        guard let check else { throw .noValidCheckDigit }
        guard check == written else { throw .checkDigitMismatch }
        self.digits = withUnsafeBytes(of: &digits) { String(decoding: $0, as: UTF8.self) }
    }

    /// The modulus-11 check digit for nine digits, or nil when the nine digits have none (remainder gives 10).
    public static func checkDigit<C: Collection>(_ nine: C) -> UInt8? where C.Element == UInt8 {
        precondition(nine.count == 9, "the check digit is computed over nine digits")
        var sum = 0
        for (index, digit) in nine.enumerated() {
            sum += Int(digit) * (10 - index)
        }
        let check = 11 - (sum % 11)
        switch check {
        case 11: return 0
        case 10: return nil
        default: return UInt8(check)
        }
    }

    /// True for numbers in 9000000000–9999999999, the range never issued to real people.
    public var isSyntheticTestNumber: Bool { digits.hasPrefix("9") }

    public var description: String { digits }

    public static func < (lhs: NHSNumber, rhs: NHSNumber) -> Bool { lhs.digits < rhs.digits }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}

/// Why a text is not an NHS number. Descriptions never repeat the input, so they are safe to log and return.
public enum NHSNumberError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidCharacter
    case wrongLength(Int)
    case noValidCheckDigit
    case checkDigitMismatch

    public var description: String {
        switch self {
        case .invalidCharacter:
            "an NHS number holds only digits, optionally grouped by spaces or hyphens"
        case .wrongLength(let count):
            "an NHS number has 10 digits, this has \(count)"
        case .noValidCheckDigit:
            "no valid NHS number starts with these nine digits (their modulus-11 check digit would be 10)"
        case .checkDigitMismatch:
            "the last digit is not the modulus-11 check digit of the first nine"
        }
    }
}
