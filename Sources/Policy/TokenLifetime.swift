/// Token lifetimes as people type them on the command line: `90s`, `15m`, `1h`.
public enum TokenLifetime {
    /// The longest a demo token may live; a leaked one should not outlast the day.
    public static let maximum: Duration = .seconds(24 * 3600)

    public static func parse(_ text: String) throws(TokenLifetimeError) -> Duration {
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0,
            text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw TokenLifetimeError(text: text) }
        let seconds: Int
        switch unit {
        case "s": seconds = count
        case "m": seconds = count.multipliedReportingOverflow(by: 60).partialValue
        case "h": seconds = count.multipliedReportingOverflow(by: 3600).partialValue
        default: throw TokenLifetimeError(text: text)
        }
        guard count <= 24 * 3600, seconds <= 24 * 3600 else { throw TokenLifetimeError(text: text, tooLong: true) }
        return .seconds(seconds)
    }
}

public struct TokenLifetimeError: Error, Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public let tooLong: Bool

    public init(text: String, tooLong: Bool = false) {
        self.text = text
        self.tooLong = tooLong
    }

    public var description: String {
        tooLong
            ? "token lifetime `\(text)` is longer than the 24h allowed"
            : "token lifetime `\(text)` is not a positive whole number followed by s, m or h (e.g. 90s, 15m, 1h)"
    }
}
