import CareRecords

/// How one provider's part of a query ended. Raw values are the wire spelling in the manifest.
public enum ProviderStatus: String, Sendable, Codable, CaseIterable {
    case ok
    case timeout
    case error
    case circuitOpen = "circuit-open"
    /// Not asked: it supplies none of the categories the query wants.
    case skipped
}

/// One provider's line in the manifest, with what it returned.
public struct ProviderOutcome: Sendable, Equatable {
    public var provider: ProviderID
    public var kind: ProviderKind
    public var status: ProviderStatus
    /// From the start of the fan-out until this provider's outcome was known.
    public var latencyMilliseconds: Int
    public var entries: [CareEntry]
    public var patient: PatientDemographics?
    /// Short reason for a status other than `ok`; never patient data.
    public var error: String?
    /// For another CareGate gateway that answered: the providers behind it that did not answer it. The fan-out
    /// turns each into a line of its own (`relayedLines`).
    public var relayed: [RelayedOutcome] = []

    public init(
        provider: ProviderID, kind: ProviderKind, status: ProviderStatus, latencyMilliseconds: Int,
        entries: [CareEntry] = [], patient: PatientDemographics? = nil, error: String? = nil
    ) {
        self.provider = provider
        self.kind = kind
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.entries = entries
        self.patient = patient
        self.error = error
    }
}

extension ProviderOutcome {
    /// A line per provider behind this gateway that did not answer it, named `<gateway>/<provider>` as its entries'
    /// sources are, with the gateway's latency: the view is then incomplete, and says exactly where.
    public var relayedLines: [ProviderOutcome] {
        relayed.map { relayed in
            let status: ProviderStatus =
                switch relayed.status {
                case ProviderStatus.timeout.rawValue: .timeout
                case ProviderStatus.circuitOpen.rawValue: .circuitOpen
                default: .error
                }
            return ProviderOutcome(
                provider: ProviderID("\(provider.rawValue)/\(relayed.provider.rawValue)"), kind: relayed.kind ?? kind,
                status: status, latencyMilliseconds: latencyMilliseconds,
                error: "did not answer the gateway \(provider.rawValue)" + (relayed.detail.map { ": \($0)" } ?? ""))
        }
    }
}

/// Everything a fan-out produced: one outcome per provider, in the registry's order.
public struct FanOutResult: Sendable {
    public var outcomes: [ProviderOutcome]
    /// How long the slowest provider that was called took to reach its outcome (answer, failure or deadline),
    /// measured precisely; nil when none was called. Query time minus this is what the gateway itself added.
    public var slowestProvider: Duration?

    public init(outcomes: [ProviderOutcome], slowestProvider: Duration? = nil) {
        self.outcomes = outcomes
        self.slowestProvider = slowestProvider
    }

    /// True when every provider that was asked answered; skipped providers were not asked and do not count.
    public var isComplete: Bool { outcomes.allSatisfy { $0.status == .ok || $0.status == .skipped } }

    /// Every entry from every provider that answered, in provider order.
    public var entries: [CareEntry] { outcomes.flatMap(\.entries) }
}
