import CareRecords

/// Why the simulator refused a request. A struct over a private code, so cases can be added without breaking
/// callers that switch on them.
public struct ProviderSimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case alreadyRunning
        case unknownProvider
        case noProviders
    }

    private let code: Code
    /// Which provider, where that matters.
    public let provider: ProviderID?

    private init(_ code: Code, provider: ProviderID? = nil) {
        self.code = code
        self.provider = provider
    }

    /// `start` was called on a simulator that is already listening.
    public static let alreadyRunning = ProviderSimulatorError(.alreadyRunning)
    /// The simulator was given no providers to run.
    public static let noProviders = ProviderSimulatorError(.noProviders)
    /// The id names no provider of this simulator.
    public static func unknownProvider(_ id: ProviderID) -> ProviderSimulatorError {
        ProviderSimulatorError(.unknownProvider, provider: id)
    }

    public var description: String {
        switch code {
        case .alreadyRunning: "the provider simulator is already running"
        case .noProviders: "the provider simulator has no providers to run"
        case .unknownProvider: "no simulated provider has the id '\(provider?.rawValue ?? "")'"
        }
    }
}
