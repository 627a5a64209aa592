/// Why the audit trail could not be written or read. The gateway answers 503 to any of these (fail closed).
///
/// Descriptions never hold an NHS number, a name or a password: the underlying driver errors are reduced to
/// a short, fixed reason before they get here.
public struct AuditStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unavailable
        case deadlineExceeded
        case closed
        case unreadableRecord
        case invalidLocation
    }

    private let code: Code
    /// What failed, for logs and the CLI; never patient data.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The store could not be opened, read or written.
    static func unavailable(_ detail: String) -> AuditStoreError { .init(.unavailable, detail) }
    /// The store did not answer within the trail's deadline.
    static func deadlineExceeded(_ detail: String) -> AuditStoreError { .init(.deadlineExceeded, detail) }
    /// A stored record's columns cannot be turned back into a record.
    static func unreadableRecord(_ detail: String) -> AuditStoreError { .init(.unreadableRecord, detail) }
    /// The location (path or URL) cannot be used.
    static func invalidLocation(_ detail: String) -> AuditStoreError { .init(.invalidLocation, detail) }
    /// The trail was shut down.
    public static let closed = AuditStoreError(.closed, "the audit trail is shut down")

    // Kinds to compare a caught error with (`error == .unavailable`); the gateway maps every kind to 503.
    public static let unavailable = AuditStoreError(.unavailable, "")
    public static let deadlineExceeded = AuditStoreError(.deadlineExceeded, "")
    public static let unreadableRecord = AuditStoreError(.unreadableRecord, "")
    public static let invalidLocation = AuditStoreError(.invalidLocation, "")

    /// A fixed label per kind of failure, for metric labels.
    public var shortDescription: String {
        switch code {
        case .unavailable: "unavailable"
        case .deadlineExceeded: "deadline-exceeded"
        case .closed: "closed"
        case .unreadableRecord: "unreadable-record"
        case .invalidLocation: "invalid-location"
        }
    }

    public var description: String {
        detail.isEmpty ? "audit store \(shortDescription)" : "audit store \(shortDescription): \(detail)"
    }

    /// Errors compare by kind only, so `error == .deadlineExceeded` reads as expected.
    public static func == (lhs: AuditStoreError, rhs: AuditStoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
