import CareRecords
import FanOut
import Logging
import Providers
import RecordMerge

/// The request path after the edge: fan out to the providers, merge, build the view. No HTTP types here, so
/// every API face (the JSON view now, FHIR later) shares one pipeline.
public struct RecordPipeline: Sendable {
    public let providers: ProviderDirectory
    public let deadline: Duration
    /// Kept across queries: a provider that keeps failing is reported `circuit-open` without being called.
    public let breakers = CircuitBreakers()
    private let logger: Logger

    public init(providers: ProviderDirectory, deadline: Duration, logger: Logger) {
        self.providers = providers
        self.deadline = deadline
        self.logger = logger
    }

    /// - Parameter deadline: a shorter deadline the client asked for; never longer than the configured one.
    public func record(
        for patient: NHSNumber, categories: Set<EntryCategory>? = nil, deadline requested: Duration? = nil
    ) async -> RecordView {
        let budget = requested.map { min($0, deadline) } ?? deadline
        // The providers registered now; a change made while this query runs applies to the next one.
        let fanOut = FanOut(adapters: providers.current, breakers: breakers, logger: logger)
        let result = await fanOut.query(patient, categories: categories, deadline: .now + budget)
        let merged = RecordMerger.merge(result.entries)
        return RecordView(patient: patient, fanOut: result, merge: merged)
    }
}
