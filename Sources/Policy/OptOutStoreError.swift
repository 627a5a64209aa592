/// The opt-out store could not answer. The gateway fails closed on it (503).
///
/// Descriptions are short fixed reasons: they never hold an NHS number, a password or the store's own
/// error text, so they are safe to log, to count and to return.
public struct OptOutStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unavailable
        case timedOut
        case closed
        case invalidLocation
        case invalidStoredValue
    }

    private let code: Code

    /// The store refused or failed the operation (file unreadable, server unreachable, query failed).
    public static let unavailable = OptOutStoreError(code: .unavailable)
    /// The store did not answer within the deadline.
    public static let timedOut = OptOutStoreError(code: .timedOut)
    /// The registry was shut down.
    public static let closed = OptOutStoreError(code: .closed)
    /// The store location (e.g. the PostgreSQL URL) cannot be used.
    public static let invalidLocation = OptOutStoreError(code: .invalidLocation)
    /// A stored row is not a valid opt-out (e.g. a malformed NHS number written by something else).
    public static let invalidStoredValue = OptOutStoreError(code: .invalidStoredValue)

    public var description: String {
        switch code {
        case .unavailable: "opt-out store unavailable"
        case .timedOut: "opt-out store did not answer in time"
        case .closed: "opt-out registry is shut down"
        case .invalidLocation: "opt-out store location is not usable"
        case .invalidStoredValue: "opt-out store holds an invalid record"
        }
    }
}
