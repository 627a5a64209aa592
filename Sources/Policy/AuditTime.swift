import Foundation

/// Times as the audit searches take and give them, in the admin API and on the command line alike.
public enum AuditTime {
    /// `2026-12-01` (midnight UTC) or `2026-12-01T09:00:00Z` (with or without fractional seconds); nil otherwise.
    public static func parse(_ text: String) -> Date? {
        if text.utf8.count == 10 { return try? Date(text, strategy: .iso8601.year().month().day()) }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    /// ISO 8601 in UTC to the millisecond (`2026-12-01T09:00:00.125Z`), so that it reads back exactly.
    public static func text(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
