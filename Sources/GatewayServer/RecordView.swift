import CareRecords
import FanOut
import RecordMerge

/// The compact JSON view of `GET /v1/patients/{nhs}/record`.
public struct RecordView: Codable, Sendable, Equatable {
    public struct Patient: Codable, Sendable, Equatable {
        public var nhsNumber: String
    }

    /// One provider's line in the manifest.
    public struct ProviderLine: Codable, Sendable, Equatable {
        public var id: String
        public var kind: String
        public var status: String
        public var latencyMs: Int
        public var entries: Int
        public var error: String?
    }

    public var patient: Patient
    /// False when any provider that was asked did not answer: the view may be missing facts.
    public var complete: Bool
    public var providers: [ProviderLine]
    /// Newest first.
    public var entries: [MergedEntry]
    /// How many facts the providers sent that this caller's role may not see. Never which.
    public var withheld: Int
    /// Present, and true, when the record was reached by break-glass; the access is flagged for review.
    public var breakGlass: Bool?

    init(patient: NHSNumber, fanOut: FanOutResult, merge: MergeResult, withheld: Int, breakGlass: Bool) {
        self.patient = Patient(nhsNumber: patient.digits)
        complete = fanOut.isComplete
        providers = fanOut.outcomes.map { outcome in
            ProviderLine(
                id: outcome.provider.rawValue, kind: outcome.kind.rawValue, status: outcome.status.rawValue,
                latencyMs: outcome.latencyMilliseconds, entries: outcome.entries.count, error: outcome.error)
        }
        entries = merge.entries
        self.withheld = withheld
        self.breakGlass = breakGlass ? true : nil
    }
}
