import CareRecords
import Foundation
import Logging
import PostgresNIO

/// The shared audit trail: several gateway replicas append to one chain in one PostgreSQL database.
///
/// Each replica group-commits its own appends (see `AuditGroupCommit`): one transaction per batch, which first
/// takes the chain-head row `FOR UPDATE`, so batches from different replicas are serialised and each links onto
/// the head the previous one committed. Every database call runs under a deadline (`timeout`), so a database that
/// is down or stuck makes calls fail with `AuditStoreError` instead of hanging.
public final class PostgresAuditTrail: AuditTrail {
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let queue: AuditGroupCommit
    private let writerTask: Task<Void, Never>
    private let logger: Logger
    private let timeout: Duration

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`) and
    /// creates the tables when missing.
    ///
    /// - Parameter timeout: the most any one call (an append's batch, a read) may take; `verify` gets 60 times this.
    public init(url: String, timeout: Duration = .seconds(5), logger: Logger = Logger(label: "caregate.audit"))
        async throws(AuditStoreError)
    {
        let operatorLogger = logger
        let logger = AuditDriverLogHandler.logger(wrapping: logger)
        let (client, runTask): (PostgresClient, Task<Void, Never>)
        do {
            (client, runTask) = try PostgresStoreURL.startClient(
                url, connectTimeout: min(timeout, .seconds(10)), configure: { $0.options.maximumConnections = 8 },
                backgroundLogger: logger)
        } catch {
            throw .invalidLocation(error.reason)
        }
        do {
            try await withAuditDeadline(timeout, "creating the audit tables") { () async throws(AuditStoreError) in
                try await Self.postgres("creating the audit tables") {
                    try await Self.createSchema(client, logger: logger)
                }
            }
        } catch {
            runTask.cancel()
            throw error
        }
        let queue = AuditGroupCommit()
        self.client = client
        self.runTask = runTask
        self.queue = queue
        self.logger = logger
        self.timeout = timeout
        self.writerTask = Task {
            await queue.runWriter(slowCommits: SlowCommitWarning(logger: operatorLogger)) {
                (batch: [AuditRecord]) async throws(AuditStoreError) -> [StoredAuditRecord] in
                try await withAuditDeadline(timeout, "appending") { () async throws(AuditStoreError) in
                    try await Self.postgres("appending") { try await Self.commit(batch, client: client, logger: logger) }
                }
            }
        }
    }

    public func append(_ record: AuditRecord) async throws(AuditStoreError) -> StoredAuditRecord {
        try await queue.append(record)
    }

    public func records(_ search: AuditSearch, since: Date?, until: Date?, after: Int64, limit: Int) async throws(AuditStoreError)
        -> [StoredAuditRecord]
    {
        var binds = PostgresBindings()
        binds.append(search.column.value)
        binds.append(AuditColumns.milliseconds(since))
        binds.append(AuditColumns.milliseconds(until, unbounded: .max))
        binds.append(after)
        binds.append(Int64(max(0, limit)))
        return try await select(
            "WHERE \(search.column.name) = $1 AND time_ms >= $2 AND time_ms < $3 AND sequence > $4 ORDER BY sequence LIMIT $5",
            binds)
    }

    public func accessVolume(since: Date, until: Date, limit: Int) async throws(AuditStoreError) -> [UserAccessSummary] {
        let (from, to) = (AuditColumns.milliseconds(since), AuditColumns.milliseconds(until))
        guard from < to, limit > 0 else { return [] }
        let head = try await rows("SELECT sequence FROM audit_chain_head WHERE id = 1", PostgresBindings(), "reading the chain head") {
            cells in try cells["sequence"].decode(Int64.self)
        }.first ?? 0
        let sequences = try await AccessVolumeQuery.sequences(since: from, until: to, head: head) {
            (sequence: Int64) async throws(AuditStoreError) -> Int64 in
            var binds = PostgresBindings()
            binds.append(sequence)
            let times = try await rows("SELECT time_ms FROM audit_records WHERE sequence = $1", binds, "reading records") {
                cells in try cells["time_ms"].decode(Int64.self)
            }
            guard let time = times.first else { throw .unreadableRecord("record \(sequence) of the chain is missing") }
            return time
        }
        var binds = PostgresBindings()
        binds.append(sequences.lowerBound)
        binds.append(sequences.upperBound)
        binds.append(from)
        binds.append(to)
        binds.append(Int64(limit))
        let summaries = try await rows(
            AccessVolumeQuery.sql(
                placeholders: (1...5).map { "$\($0)" }, distinctList: { "string_agg(DISTINCT \($0), ',')" }),
            // A busy day is millions of records to count, as verifying is: the same longer deadline.
            binds, "counting accesses per user", deadlineFactor: 60
        ) { cells in
            AccessVolumeQuery.summary(
                text: { try? cells[$0].decode(String?.self) ?? nil }, integer: { try? cells[$0].decode(Int64?.self) ?? nil })
        }
        return try summaries.map { summary throws(AuditStoreError) in
            guard let summary else { throw .unreadableRecord("a user's access count cannot be read back") }
            return summary
        }
    }

    public func record(sequence: Int64) async throws(AuditStoreError) -> StoredAuditRecord? {
        var binds = PostgresBindings()
        binds.append(sequence)
        return try await select("WHERE sequence = $1", binds).first
    }

    public func breakGlassRecords(since: Date, after: Int64, limit: Int, reviewed: Bool?) async throws(AuditStoreError)
        -> [BreakGlassRecord]
    {
        var binds = PostgresBindings()
        binds.append(AuditColumns.milliseconds(since))
        binds.append(after)
        binds.append(Int64(max(0, limit)))
        let rows = try await rows(
            """
            SELECT \(BreakGlassReviewColumns.recordSelected), \(BreakGlassReviewColumns.latestSelected)
            FROM audit_records r \(BreakGlassReviewColumns.latestJoin)
            WHERE r.purpose = 'emergency' AND r.time_ms >= $1 AND r.sequence > $2\(BreakGlassReviewColumns.condition(reviewed: reviewed))
            ORDER BY r.sequence LIMIT $3
            """, binds, "reading records"
        ) { cells throws -> (AuditColumns?, BreakGlassReview?) in
            (try Self.columns(cells), try Self.review(cells, prefix: "review_"))
        }
        var result: [BreakGlassRecord] = []
        for (columns, review) in rows {
            guard let columns else { throw .unreadableRecord("a stored record cannot be read back") }
            result.append(BreakGlassRecord(stored: try columns.storedOrThrow(), review: review))
        }
        return result
    }

    public func addReview(_ review: BreakGlassReview) async throws(AuditStoreError) {
        var binds = PostgresBindings()
        binds.append(review.requestID)
        binds.append(review.sequence)
        binds.append(review.timeMilliseconds)
        binds.append(review.reviewerID)
        binds.append(review.reviewerName)
        binds.append(review.outcome.rawValue)
        binds.append(review.note)
        _ = try await rows(
            "INSERT INTO audit_reviews (\(BreakGlassReviewColumns.list)) VALUES ($1, $2, $3, $4, $5, $6, $7)", binds,
            "adding a review"
        ) { _ in () }
    }

    public func reviews(requestID: String) async throws(AuditStoreError) -> [BreakGlassReview] {
        var binds = PostgresBindings()
        binds.append(requestID)
        let reviews = try await rows(
            "SELECT \(BreakGlassReviewColumns.list) FROM audit_reviews WHERE request_id = $1 ORDER BY id", binds,
            "reading reviews"
        ) { cells in try Self.review(cells, prefix: "") }
        return try reviews.map { review throws(AuditStoreError) in
            guard let review else { throw .unreadableRecord("a stored review cannot be read back") }
            return review
        }
    }

    public func awaitingReview() async throws(AuditStoreError) -> ReviewBacklog {
        let rows = try await rows(
            BreakGlassReviewColumns.backlog, PostgresBindings(), "counting break-glass queries awaiting review"
        ) { cells in
            (try cells["count"].decode(Int64?.self), try cells["oldest_ms"].decode(Int64?.self))
        }
        return BreakGlassReviewColumns.backlog(count: rows.first?.0, oldest: rows.first?.1)
    }

    private func select(_ clause: String, _ binds: PostgresBindings) async throws(AuditStoreError) -> [StoredAuditRecord] {
        let columns = try await rows("SELECT \(AuditColumns.list) FROM audit_records \(clause)", binds, "reading records") {
            cells in try Self.columns(cells)
        }
        var result: [StoredAuditRecord] = []
        for column in columns {
            guard let column else { throw .unreadableRecord("a stored record cannot be read back") }
            result.append(try column.storedOrThrow())
        }
        return result
    }

    /// Runs one statement under the deadline (`timeout` times `deadlineFactor`) and reads each row it returns with
    /// `read`.
    private func rows<Row: Sendable>(
        _ sql: String, _ binds: PostgresBindings, _ what: String, deadlineFactor: Int = 1,
        _ read: @escaping @Sendable (PostgresRandomAccessRow) throws -> Row
    ) async throws(AuditStoreError) -> [Row] {
        let client = self.client
        let logger = self.logger
        return try await withAuditDeadline(timeout * deadlineFactor, what) { () async throws(AuditStoreError) in
            try await Self.postgres(what) {
                let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
                var result: [Row] = []
                for try await row in rows { result.append(try read(row.makeRandomAccess())) }
                return result
            }
        }
    }

    public func verify() async throws(AuditStoreError) -> AuditVerification {
        let client = self.client
        let logger = self.logger
        return try await withAuditDeadline(timeout * 60, "verifying") { () async throws(AuditStoreError) in
            try await Self.postgres("verifying") {
                // One statement is one snapshot: the head and the rows it covers are read consistently.
                let rows = try await client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT h.sequence AS head_sequence, h.hash AS head_hash, \(AuditColumns.names.map { "r." + $0 }.joined(separator: ", "))
                            FROM audit_chain_head h LEFT JOIN audit_records r ON r.sequence <= h.sequence
                            WHERE h.id = 1 ORDER BY r.sequence
                            """),
                    logger: logger)
                var head: (sequence: Int64, hash: String)?
                var verifier = AuditChainVerifier()
                for try await row in rows {
                    let cells = row.makeRandomAccess()
                    if head == nil {
                        head = (try cells["head_sequence"].decode(Int64.self), try cells["head_hash"].decode(String.self))
                    }
                    guard let sequence = try? cells["sequence"].decode(Int64?.self) else { continue }
                    verifier.check(sequence: sequence, row: (try? Self.columns(cells))?.stored)
                }
                guard let head else { return AuditVerification.broken(sequence: 1, reason: "the chain head is missing") }
                return verifier.finish(headSequence: head.sequence, headHash: head.hash)
            }
        }
    }

    public func shutdown() async {
        queue.close()
        await writerTask.value
        runTask.cancel()
        await runTask.value
    }

    // MARK: - SQL

    private static func createSchema(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // Replicas starting together would otherwise race on CREATE TABLE IF NOT EXISTS.
            try await connection.query("SELECT pg_advisory_xact_lock(7142650301)", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS audit_records (
                    sequence BIGINT PRIMARY KEY, time_ms BIGINT NOT NULL, request_id TEXT NOT NULL,
                    user_id TEXT NOT NULL, user_name TEXT NOT NULL, organisation TEXT NOT NULL, role TEXT NOT NULL,
                    purpose TEXT NOT NULL, break_glass_reason TEXT, patient TEXT NOT NULL, route TEXT NOT NULL,
                    decision TEXT NOT NULL, reason TEXT NOT NULL, providers TEXT NOT NULL,
                    entries_per_category TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL,
                    via_gateway TEXT)
                """, logger: logger)
            // A trail made before federation gains the column; its rows keep NULL there, as they hash.
            try await connection.query(
                "ALTER TABLE audit_records ADD COLUMN IF NOT EXISTS via_gateway TEXT", logger: logger)
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS audit_records_patient ON audit_records (patient, sequence)", logger: logger)
            // One member of staff's accesses, for an information governance investigation.
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS audit_records_user ON audit_records (user_id, sequence)", logger: logger)
            // Break-glass review reads only emergency records by time: a partial index keeps it off the rest.
            try await connection.query(
                """
                CREATE INDEX IF NOT EXISTS audit_records_break_glass ON audit_records (time_ms, sequence)
                WHERE purpose = 'emergency'
                """, logger: logger)
            // Break-glass reviews: append-only, each naming the query (request id) and the record it was made from.
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS audit_reviews (
                    id BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL, sequence BIGINT NOT NULL,
                    time_ms BIGINT NOT NULL, reviewer_id TEXT NOT NULL, reviewer_name TEXT NOT NULL,
                    outcome TEXT NOT NULL, note TEXT)
                """, logger: logger)
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS audit_reviews_request ON audit_reviews (request_id, id)", logger: logger)
            try await connection.query(
                """
                CREATE OR REPLACE FUNCTION caregate_audit_reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'caregate: break-glass reviews are append-only'; END $$
                """, logger: logger)
            // Dropped and made again rather than CREATE OR REPLACE TRIGGER, which PostgreSQL before 14 lacks.
            try await connection.query(
                "DROP TRIGGER IF EXISTS audit_reviews_append_only ON audit_reviews", logger: logger)
            try await connection.query(
                """
                CREATE TRIGGER audit_reviews_append_only BEFORE UPDATE OR DELETE ON audit_reviews
                FOR EACH ROW EXECUTE FUNCTION caregate_audit_reviews_append_only()
                """, logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS audit_chain_head (
                    id INTEGER PRIMARY KEY CHECK (id = 1), sequence BIGINT NOT NULL, hash TEXT NOT NULL)
                """, logger: logger)
            try await connection.query(
                "INSERT INTO audit_chain_head (id, sequence, hash) VALUES (1, 0, \(AuditChain.genesisHash)) ON CONFLICT (id) DO NOTHING",
                logger: logger)
        }
    }

    private static func commit(_ batch: [AuditRecord], client: PostgresClient, logger: Logger) async throws
        -> [StoredAuditRecord]
    {
        try await client.withTransaction(logger: logger) { connection -> [StoredAuditRecord] in
            let head = try await connection.query(
                "SELECT sequence, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE", logger: logger)
            var current: (Int64, String)?
            for try await row in head.decode((Int64, String).self) { current = row }
            guard let (sequence, hash) = current else { throw AuditStoreError.unreadableRecord("the chain head is missing") }
            let stored = AuditChain.link(batch, headSequence: sequence, headHash: hash)
            var bindings = PostgresBindings(capacity: stored.count * AuditColumns.names.count)
            var rows: [String] = []
            for record in stored {
                let columns = AuditColumns(record)
                let first = bindings.count
                rows.append("(" + (1...AuditColumns.names.count).map { "$\(first + $0)" }.joined(separator: ", ") + ")")
                bindings.append(columns.sequence)
                bindings.append(columns.timeMilliseconds)
                bindings.append(columns.requestID)
                bindings.append(columns.userID)
                bindings.append(columns.userName)
                bindings.append(columns.organisation)
                bindings.append(columns.role)
                bindings.append(columns.purpose)
                bindings.append(columns.breakGlassReason)
                bindings.append(columns.patient)
                bindings.append(columns.route)
                bindings.append(columns.decision)
                bindings.append(columns.reason)
                bindings.append(columns.providersJSON)
                bindings.append(columns.entriesPerCategoryJSON)
                bindings.append(columns.previousHash)
                bindings.append(columns.hash)
                bindings.append(columns.viaGateway)
            }
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO audit_records (\(AuditColumns.list)) VALUES " + rows.joined(separator: ", "),
                    binds: bindings),
                logger: logger)
            let last = stored[stored.count - 1]
            try await connection.query(
                "UPDATE audit_chain_head SET sequence = \(last.sequence), hash = \(last.hash) WHERE id = 1",
                logger: logger)
            return stored
        }
    }

    private static func bindings(_ values: [String]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { bindings.append(value) }
        return bindings
    }

    /// nil when a column holds something that is not what the chain stored (reported by `verify`).
    private static func columns(_ cells: PostgresRandomAccessRow) throws -> AuditColumns? {
        do {
            return AuditColumns(
                sequence: try cells["sequence"].decode(Int64.self),
                timeMilliseconds: try cells["time_ms"].decode(Int64.self),
                requestID: try cells["request_id"].decode(String.self),
                userID: try cells["user_id"].decode(String.self),
                userName: try cells["user_name"].decode(String.self),
                organisation: try cells["organisation"].decode(String.self),
                role: try cells["role"].decode(String.self),
                purpose: try cells["purpose"].decode(String.self),
                breakGlassReason: try cells["break_glass_reason"].decode(String?.self),
                patient: try cells["patient"].decode(String.self),
                route: try cells["route"].decode(String.self),
                decision: try cells["decision"].decode(String.self),
                reason: try cells["reason"].decode(String.self),
                providersJSON: try cells["providers"].decode(String.self),
                entriesPerCategoryJSON: try cells["entries_per_category"].decode(String.self),
                previousHash: try cells["previous_hash"].decode(String.self),
                hash: try cells["hash"].decode(String.self),
                viaGateway: try cells["via_gateway"].decode(String?.self))
        } catch is PostgresDecodingError {
            return nil
        }
    }

    /// A review from its columns (`prefix` for a listing's joined ones); nil when there is none.
    private static func review(_ cells: PostgresRandomAccessRow, prefix: String) throws -> BreakGlassReview? {
        func text(_ name: String) -> String? { try? cells[prefix + name].decode(String?.self) ?? nil }
        func integer(_ name: String) -> Int64? { try? cells[prefix + name].decode(Int64?.self) ?? nil }
        return BreakGlassReviewColumns.review(text: text, integer: integer)
    }

    /// Runs PostgreSQL work, reducing any failure to an `AuditStoreError` with no data from the rows in it.
    private static func postgres<T>(_ what: String, _ body: () async throws -> T) async throws(AuditStoreError) -> T {
        do {
            return try await body()
        } catch let error as AuditStoreError {
            throw error
        } catch let error as PostgresTransactionError {
            throw map(error.closureError ?? error.commitError ?? error.beginError ?? error, what)
        } catch {
            throw map(error, what)
        }
    }

    private static func map(_ error: any Error, _ what: String) -> AuditStoreError {
        if let error = error as? AuditStoreError { return error }
        if let error = error as? PSQLError {
            // PSQLError's server message can quote values; the SQLSTATE and code cannot.
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return .unavailable("\(what): \(error.code)\(state)")
        }
        if error is CancellationError { return .deadlineExceeded("\(what): cancelled") }
        return .unavailable("\(what): \(type(of: error))")
    }
}
