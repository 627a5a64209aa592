import CareRecords
import FanOut
import Logging
import RecordMerge

/// The request path after the edge: fan out to the providers, merge, build the view. No HTTP types here, so
/// every API face (the JSON view now, FHIR later) shares one pipeline.
public struct RecordPipeline: Sendable {
    public let fanOut: FanOut
    public let deadline: Duration

    public init(fanOut: FanOut, deadline: Duration) {
        self.fanOut = fanOut
        self.deadline = deadline
    }

    public func record(for patient: NHSNumber, categories: Set<EntryCategory>? = nil) async -> RecordView {
        let result = await fanOut.query(patient, categories: categories, deadline: .now + deadline)
        let merged = RecordMerger.merge(result.entries)
        return RecordView(patient: patient, fanOut: result, merge: merged)
    }
}
