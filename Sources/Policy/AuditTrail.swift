import CareRecords
import Foundation
import Logging

/// The append-only, hash-chained record of every request to a records route (see `AuditChain`).
///
/// Implementations: `SQLiteAuditTrail` (embedded, one replica) and `PostgresAuditTrail` (shared by replicas,
/// which still write one chain). Every failure is an `AuditStoreError`, raised within a bounded time, so that
/// the gateway can fail closed with 503 rather than wait.
public protocol AuditTrail: Sendable {
    /// Durable (committed) when it returns — the gateway returns data only after this.
    func append(_ record: AuditRecord) async throws(AuditStoreError) -> StoredAuditRecord
    /// The records about one patient (who looked at their record) or of one user (what a member of staff looked
    /// at) made at or after `since` (nil: from the first), before `until` (nil: to the last) and after the record
    /// numbered `after`, in chain order, at most `limit`: a page at a time.
    func records(_ search: AuditSearch, since: Date?, until: Date?, after: Int64, limit: Int) async throws(AuditStoreError)
        -> [StoredAuditRecord]
    /// Per user, their queries of records made in `since..<until`, most patients first, at most `limit` users:
    /// information governance's look for the user whose accesses stand out (see `UserAccessSummary`).
    func accessVolume(since: Date, until: Date, limit: Int) async throws(AuditStoreError) -> [UserAccessSummary]
    /// The record numbered `sequence`, if there is one.
    func record(sequence: Int64) async throws(AuditStoreError) -> StoredAuditRecord?
    /// The break-glass records (purpose `emergency`) made at or after `since` and after the record numbered `after`,
    /// in chain order, at most `limit`, each with the latest review of its query: what information governance
    /// reviews, a page at a time. `reviewed` keeps only records whose query has (true) or has not (false) been
    /// reviewed; nil keeps both.
    func breakGlassRecords(since: Date, after: Int64, limit: Int, reviewed: Bool?) async throws(AuditStoreError)
        -> [BreakGlassRecord]
    /// Adds a review of a break-glass query (it supersedes any earlier one, which is kept).
    func addReview(_ review: BreakGlassReview) async throws(AuditStoreError)
    /// Every review of the query with `requestID`, oldest first.
    func reviews(requestID: String) async throws(AuditStoreError) -> [BreakGlassReview]
    /// How many break-glass queries have no review yet, and when the oldest of them was made: information
    /// governance's backlog.
    func awaitingReview() async throws(AuditStoreError) -> ReviewBacklog
    /// Recomputes the whole chain and names the first record at which it does not hold.
    func verify() async throws(AuditStoreError) -> AuditVerification
    /// Commits what is queued, then closes; later calls fail with `AuditStoreError.closed`.
    func shutdown() async
}

/// Whose records a search reads.
public enum AuditSearch: Sendable, Hashable {
    /// Every record about this patient: who looked at their record, and who changed their opt-out.
    case patient(NHSNumber)
    /// Every record of this user (the token's `sub`, an SDS user id), whoever's record it reached.
    case user(String)

    /// The column searched (each has an index led by it) and the value.
    var column: (name: String, value: String) {
        switch self {
        case .patient(let patient): ("patient", patient.digits)
        case .user(let user): ("user_id", user)
        }
    }
}

extension AuditTrail {
    /// Reads every record `search` finds in the period, a page of `pageSize` at a time, oldest first, handing each
    /// page to `body` as it comes (so a long history is never held whole).
    public func eachPage(
        _ search: AuditSearch, since: Date? = nil, until: Date? = nil, pageSize: Int = 1000,
        _ body: ([StoredAuditRecord]) throws -> Void
    ) async throws {
        var after: Int64 = 0
        while true {
            let page = try await records(search, since: since, until: until, after: after, limit: pageSize)
            try body(page)
            guard page.count == pageSize, let last = page.last else { return }
            after = last.sequence
        }
    }

    /// Every record about `patient`, oldest first.
    public func records(patient: NHSNumber) async throws -> [StoredAuditRecord] {
        var all: [StoredAuditRecord] = []
        try await eachPage(.patient(patient)) { all += $0 }
        return all
    }
}

/// Opens the audit trail at `location`, creating its tables when missing.
public func makeAuditTrail(_ location: StoreLocation, logger: Logger) async throws(AuditStoreError) -> any AuditTrail {
    switch location {
    case .sqlite(let path):
        try await SQLiteAuditTrail(path: path, logger: logger)
    case .postgres(let url):
        try await PostgresAuditTrail(url: url, logger: logger)
    }
}
