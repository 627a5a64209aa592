import CareRecords

/// One provider, as the fan-out sees it: ask for a patient, get decoded entries or a failure.
///
/// Implementations must give up by `deadline` and promptly when their task is cancelled; the fan-out does not
/// wait for them past the deadline either way, but a straggler still holds a connection.
public protocol ProviderAdapter: Sendable {
    var definition: ProviderDefinition { get }
    func fetch(_ patient: NHSNumber, deadline: ContinuousClock.Instant) async throws(ProviderFailure) -> DecodedRecord
}

/// Why a provider gave no usable answer. `reason` is short and holds no patient data: it is shown to callers
/// in the manifest and logged.
public struct ProviderFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The provider did not answer in time.
        case timeout
        /// The provider answered with something unusable, or the connection failed.
        case error
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public static func timeout(_ reason: String = "no answer before the deadline") -> ProviderFailure {
        ProviderFailure(.timeout, reason)
    }

    public static func error(_ reason: String) -> ProviderFailure { ProviderFailure(.error, reason) }

    public var description: String { reason }
}
