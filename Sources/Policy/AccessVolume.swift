import Foundation

/// One user's queries of patients' records over a period, read from the audit trail: how many, how many different
/// patients, how many broke the glass and how many were refused. Information governance looks down this list for
/// the outlier — a user who reached far more patients than their work explains, or was refused again and again —
/// and then reads that user's records (`AuditTrail.records(_:since:after:limit:)` with `.user`).
public struct UserAccessSummary: Sendable, Hashable {
    public var userID: String
    /// A name the user's records give (the greatest, should it have changed within the period).
    public var userName: String
    /// The organisations (ODS codes) they queried from, sorted.
    public var organisations: [String]
    /// The job roles (NHS RBAC codes) they queried in, sorted: what their volume is to be judged against.
    public var roles: [String]
    /// Queries of a record, allowed or refused. A query whose disclosure was recorded after its answer has two
    /// records and counts once; opt-out changes are not queries and are left out.
    public var queries: Int
    /// Different patients among them.
    public var patients: Int
    /// Of the queries, those that broke the glass (purpose `emergency`).
    public var emergency: Int
    /// Of the queries, those refused.
    public var refused: Int
    /// When their first and last query in the period were made.
    public var first: Date
    public var last: Date

    public init(
        userID: String, userName: String, organisations: [String], roles: [String], queries: Int, patients: Int,
        emergency: Int, refused: Int, first: Date, last: Date
    ) {
        self.userID = userID
        self.userName = userName
        self.organisations = organisations
        self.roles = roles
        self.queries = queries
        self.patients = patients
        self.emergency = emergency
        self.refused = refused
        self.first = first
        self.last = last
    }
}

/// The one statement both stores run for `AuditTrail.accessVolume`, and how they find the part of the chain a
/// period covers without an index on time.
///
/// Records are numbered in the order they are committed, which is the order they were made in but for the time a
/// record waits for its group commit (milliseconds; a stalled disk, a few hundred) and, with several replicas, their
/// clocks' skew. So the chain is bisected on `time_ms` for the period widened by `slack` on both sides — a few
/// reads by primary key — and the statement then counts, within those numbers, exactly the records whose time is
/// in the period. An index on time would cost every append; a record made more than `slack` out of order with its
/// neighbours would be missed at the period's edges, and none can be on one replica.
enum AccessVolumeQuery {
    static let slackMilliseconds: Int64 = 5 * 60 * 1000

    /// The statement, with the store's placeholders for (first sequence, end sequence, since ms, until ms, limit) and
    /// its way of listing a column's distinct values (`distinctList("organisation")`).
    static func sql(placeholders p: [String], distinctList: (String) -> String) -> String {
        """
        SELECT user_id, MAX(user_name) AS user_name, \(distinctList("organisation")) AS organisations,
            \(distinctList("role")) AS roles, COUNT(*) AS queries,
            COUNT(DISTINCT patient) AS patients,
            SUM(CASE WHEN purpose = 'emergency' THEN 1 ELSE 0 END) AS emergency,
            SUM(CASE WHEN decision = 'refused' THEN 1 ELSE 0 END) AS refused,
            MIN(time_ms) AS first_ms, MAX(time_ms) AS last_ms
        FROM audit_records
        WHERE sequence >= \(p[0]) AND sequence < \(p[1]) AND time_ms >= \(p[2]) AND time_ms < \(p[3])
            AND reason <> '\(AuditRecord.disclosedReason)' AND purpose <> '\(AuditRecord.administrationPurpose)'
        GROUP BY user_id ORDER BY patients DESC, queries DESC, user_id LIMIT \(p[4])
        """
    }

    /// The numbers of the records the period can hold: `first..<end`, among `1...head`.
    static func sequences(
        since: Int64, until: Int64, head: Int64, time: (Int64) async throws(AuditStoreError) -> Int64
    ) async throws(AuditStoreError) -> Range<Int64> {
        let first = try await firstSequence(atOrAfter: since - slackMilliseconds, head: head, time: time)
        let end = try await firstSequence(atOrAfter: until + slackMilliseconds, head: head, time: time)
        return first..<max(first, end)
    }

    /// The first record number whose time is at or after `milliseconds` (`head + 1` if none), by bisection.
    static func firstSequence(
        atOrAfter milliseconds: Int64, head: Int64, time: (Int64) async throws(AuditStoreError) -> Int64
    ) async throws(AuditStoreError) -> Int64 {
        var low: Int64 = 1
        var high = head + 1
        while low < high {
            let middle = low + (high - low) / 2
            if try await time(middle) < milliseconds { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// A summary from a result row's columns; nil when one is missing.
    static func summary(
        text: (String) -> String?, integer: (String) -> Int64?
    ) -> UserAccessSummary? {
        guard let user = text("user_id"), let name = text("user_name"), let queries = integer("queries"),
            let patients = integer("patients"), let emergency = integer("emergency"), let refused = integer("refused"),
            let first = integer("first_ms"), let last = integer("last_ms")
        else { return nil }
        func list(_ name: String) -> [String] {
            Set((text(name) ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }).sorted()
        }
        return UserAccessSummary(
            userID: user, userName: name, organisations: list("organisations"), roles: list("roles"), queries: Int(queries),
            patients: Int(patients), emergency: Int(emergency), refused: Int(refused),
            first: Date(timeIntervalSince1970: Double(first) / 1000), last: Date(timeIntervalSince1970: Double(last) / 1000))
    }
}
