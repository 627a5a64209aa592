import Foundation

/// Information governance's review of one break-glass query: whether the emergency access was appropriate, who
/// decided, when, and an optional note. A query is reviewed as a whole (with `audit_disclosure: after-answer` it
/// has two audit records, the access and the disclosure, sharing one request id); a later review of the same query
/// supersedes the earlier one, and both are kept.
///
/// Stored beside the audit trail in the same store, append-only (the tables refuse an update or a delete), but not
/// in the hash chain: a review is a judgement about a record, not an access to a patient's record.
public struct BreakGlassReview: Sendable, Hashable {
    public enum Outcome: String, CaseIterable, Sendable {
        /// The emergency justified the access.
        case appropriate
        /// It did not: a matter for the organisation's own process.
        case inappropriate
        /// Not decided yet: more is needed (from the user, their organisation, the Caldicott Guardian).
        case followUp = "follow-up"
    }

    /// The request id of the query reviewed.
    public var requestID: String
    /// The audit record the reviewer named (one of the query's).
    public var sequence: Int64
    public var time: Date
    public var reviewerID: String
    public var reviewerName: String
    public var outcome: Outcome
    /// The reviewer's words, at most `noteLimit` characters: about the access, not the patient's care.
    public var note: String?

    /// The longest note kept.
    public static let noteLimit = 1000

    public init(
        requestID: String, sequence: Int64, time: Date, reviewerID: String, reviewerName: String, outcome: Outcome,
        note: String?
    ) {
        self.requestID = requestID
        self.sequence = sequence
        self.time = Date(timeIntervalSince1970: (time.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        self.reviewerID = reviewerID
        self.reviewerName = reviewerName
        self.outcome = outcome
        self.note = note
    }

    var timeMilliseconds: Int64 { Int64((time.timeIntervalSince1970 * 1000).rounded()) }
}

/// A break-glass record and the latest review of its query, if any.
public struct BreakGlassRecord: Sendable, Hashable {
    public var stored: StoredAuditRecord
    public var review: BreakGlassReview?

    public init(stored: StoredAuditRecord, review: BreakGlassReview?) {
        self.stored = stored
        self.review = review
    }
}

/// The break-glass queries no one has reviewed yet.
public struct ReviewBacklog: Sendable, Hashable {
    public var queries: Int
    /// When the oldest of them was made; nil when there are none.
    public var oldest: Date?

    public init(queries: Int, oldest: Date?) {
        self.queries = queries
        self.oldest = oldest
    }
}

/// The columns of `audit_reviews`, shared by both stores.
enum BreakGlassReviewColumns {
    static let names = ["request_id", "sequence", "time_ms", "reviewer_id", "reviewer_name", "outcome", "note"]
    static let list = names.joined(separator: ", ")
    /// The latest review of each listed record's query, as `review_`-prefixed columns of a break-glass listing: joined
    /// onto `audit_records r`.
    static let latestJoin = """
        LEFT JOIN audit_reviews v ON v.id = (SELECT max(id) FROM audit_reviews w WHERE w.request_id = r.request_id)
        """
    static let latestSelected = names.map { "v.\($0) AS review_\($0)" }.joined(separator: ", ")
    static let recordSelected = AuditColumns.names.map { "r.\($0) AS \($0)" }.joined(separator: ", ")

    /// Counts the break-glass queries without a review and finds the oldest (`count`, `oldest_ms`).
    static let backlog = """
        SELECT count(DISTINCT r.request_id) AS count, min(r.time_ms) AS oldest_ms FROM audit_records r
        WHERE r.purpose = 'emergency'
        AND NOT EXISTS (SELECT 1 FROM audit_reviews v WHERE v.request_id = r.request_id)
        """

    /// The backlog from `backlog`'s one row.
    static func backlog(count: Int64?, oldest: Int64?) -> ReviewBacklog {
        ReviewBacklog(
            queries: Int(count ?? 0), oldest: oldest.map { Date(timeIntervalSince1970: Double($0) / 1000) })
    }

    /// The break-glass listing's condition on reviews: nil for all.
    static func condition(reviewed: Bool?) -> String {
        switch reviewed {
        case nil: ""
        case true?: " AND v.id IS NOT NULL"
        case false?: " AND v.id IS NULL"
        }
    }

    /// A review from its columns (`prefix` for a listing's joined columns); nil when there is none, or when a column
    /// holds what no review could have written.
    static func review(
        prefix: String = "", text: (String) -> String?, integer: (String) -> Int64?
    ) -> BreakGlassReview? {
        guard let requestID = text(prefix + "request_id"), let sequence = integer(prefix + "sequence"),
            let time = integer(prefix + "time_ms"), let reviewerID = text(prefix + "reviewer_id"),
            let reviewerName = text(prefix + "reviewer_name"),
            let outcome = text(prefix + "outcome").flatMap(BreakGlassReview.Outcome.init(rawValue:))
        else { return nil }
        return BreakGlassReview(
            requestID: requestID, sequence: sequence, time: Date(timeIntervalSince1970: Double(time) / 1000),
            reviewerID: reviewerID, reviewerName: reviewerName, outcome: outcome, note: text(prefix + "note"))
    }
}
