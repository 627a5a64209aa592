import CareRecords
import Foundation
import Logging
import SQLiteNIO
import Synchronization

/// The embedded audit trail: one SQLite file for one replica.
///
/// The file and tables are created when missing. WAL with `synchronous=FULL`, so a committed append is on disk.
/// Appends are group-committed by one writer connection (see `AuditGroupCommit`); reads use a second
/// connection, so they never see a batch that has not committed. `busy_timeout` bounds any wait for a lock
/// held by another process, so a stuck file fails an append instead of hanging it.
///
/// A batch is one statement: a multi-row `INSERT`, which SQLite runs as its own transaction. Triggers in the file
/// keep the chain whole whoever writes: each row must link onto the current head (or the insert aborts), and the
/// head moves with each row. The writer links onto the head it last wrote and re-reads it only when another
/// writer (a second trail on the same file) has moved it, so an append costs one round trip to SQLite's thread
/// and one fsync rather than five statements: it sits on every query's critical path.
public final class SQLiteAuditTrail: AuditTrail {
    private let writer: SQLiteConnection
    private let reader: SQLiteConnection
    private let queue: AuditGroupCommit
    private let writerTask: Task<Void, Never>
    private let isShutDown = Mutex(false)

    /// Opens (creating if missing) the trail in the file at `path`.
    public init(path: String, logger: Logger = Logger(label: "caregate.audit")) async throws(AuditStoreError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .unavailable("cannot create the directory for the audit file")
        }
        let writer = try await Self.open(path, logger: logger)
        let reader: SQLiteConnection
        do {
            try await Self.createSchema(writer)
            reader = try await Self.open(path, logger: logger)
        } catch {
            try? await writer.close()
            throw error
        }
        let queue = AuditGroupCommit()
        self.writer = writer
        self.reader = reader
        self.queue = queue
        self.writerTask = Task {
            var head: ChainHead?
            await queue.runWriter(slowCommits: SlowCommitWarning(logger: logger)) {
                (batch: [AuditRecord]) async throws(AuditStoreError) -> [StoredAuditRecord] in
                try await Self.commit(batch, on: writer, head: &head)
            }
        }
    }

    public func append(_ record: AuditRecord) async throws(AuditStoreError) -> StoredAuditRecord {
        try await queue.append(record)
    }

    public func records(_ search: AuditSearch, since: Date?, until: Date?, after: Int64, limit: Int) async throws(AuditStoreError)
        -> [StoredAuditRecord]
    {
        try await select(
            "WHERE \(search.column.name) = ? AND time_ms >= ? AND time_ms < ? AND sequence > ? ORDER BY sequence LIMIT ?",
            [
                .text(search.column.value), .integer(Int(AuditColumns.milliseconds(since))),
                .integer(Int(AuditColumns.milliseconds(until, unbounded: .max))), .integer(Int(after)), .integer(max(0, limit)),
            ])
    }

    public func accessVolume(since: Date, until: Date, limit: Int) async throws(AuditStoreError) -> [UserAccessSummary] {
        let (from, to) = (AuditColumns.milliseconds(since), AuditColumns.milliseconds(until))
        guard from < to, limit > 0 else { return [] }
        let head = try await query("SELECT sequence FROM audit_chain_head WHERE id = 1", [], "reading the chain head")
            .first.flatMap { Self.integer($0, "sequence") } ?? 0
        let sequences = try await AccessVolumeQuery.sequences(since: from, until: to, head: head) {
            (sequence: Int64) async throws(AuditStoreError) -> Int64 in
            let row = try await query("SELECT time_ms FROM audit_records WHERE sequence = ?", [.integer(Int(sequence))])
            guard let time = row.first.flatMap({ Self.integer($0, "time_ms") }) else {
                throw .unreadableRecord("record \(sequence) of the chain is missing")
            }
            return time
        }
        let rows = try await query(
            AccessVolumeQuery.sql(placeholders: Array(repeating: "?", count: 5), distinctList: { "group_concat(DISTINCT \($0))" }),
            [
                .integer(Int(sequences.lowerBound)), .integer(Int(sequences.upperBound)), .integer(Int(from)),
                .integer(Int(to)), .integer(limit),
            ], "counting accesses per user")
        return try rows.map { row throws(AuditStoreError) in
            guard let summary = AccessVolumeQuery.summary(text: { Self.text(row, $0) }, integer: { Self.integer(row, $0) })
            else { throw .unreadableRecord("a user's access count cannot be read back") }
            return summary
        }
    }

    public func record(sequence: Int64) async throws(AuditStoreError) -> StoredAuditRecord? {
        try await select("WHERE sequence = ?", [.integer(Int(sequence))]).first
    }

    public func breakGlassRecords(since: Date, after: Int64, limit: Int, reviewed: Bool?) async throws(AuditStoreError)
        -> [BreakGlassRecord]
    {
        let rows = try await query(
            """
            SELECT \(BreakGlassReviewColumns.recordSelected), \(BreakGlassReviewColumns.latestSelected)
            FROM audit_records r \(BreakGlassReviewColumns.latestJoin)
            WHERE r.purpose = 'emergency' AND r.time_ms >= ? AND r.sequence > ?\(BreakGlassReviewColumns.condition(reviewed: reviewed))
            ORDER BY r.sequence LIMIT ?
            """,
            [
                .integer(Int(AuditColumns.milliseconds(since))), .integer(Int(after)),
                .integer(max(0, limit)),
            ])
        var result: [BreakGlassRecord] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            guard let columns = Self.columns(row) else { throw .unreadableRecord("a stored record cannot be read back") }
            result.append(
                BreakGlassRecord(
                    stored: try columns.storedOrThrow(),
                    review: BreakGlassReviewColumns.review(
                        prefix: "review_", text: { Self.text(row, $0) }, integer: { Self.integer(row, $0) })))
        }
        return result
    }

    public func addReview(_ review: BreakGlassReview) async throws(AuditStoreError) {
        // On the reading connection: the writer's is the group commit's alone. A review is one autocommitted row, and
        // busy_timeout bounds its wait for the writer's lock.
        _ = try await query(
            "INSERT INTO audit_reviews (\(BreakGlassReviewColumns.list)) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text(review.requestID), .integer(Int(review.sequence)), .integer(Int(review.timeMilliseconds)),
                .text(review.reviewerID), .text(review.reviewerName), .text(review.outcome.rawValue),
                review.note.map(SQLiteData.text) ?? .null,
            ], "adding a review")
    }

    public func reviews(requestID: String) async throws(AuditStoreError) -> [BreakGlassReview] {
        let rows = try await query(
            "SELECT \(BreakGlassReviewColumns.list) FROM audit_reviews WHERE request_id = ? ORDER BY id",
            [.text(requestID)], "reading reviews")
        return try rows.map { row throws(AuditStoreError) in
            guard let review = BreakGlassReviewColumns.review(text: { Self.text(row, $0) }, integer: { Self.integer(row, $0) })
            else { throw .unreadableRecord("a stored review cannot be read back") }
            return review
        }
    }

    public func awaitingReview() async throws(AuditStoreError) -> ReviewBacklog {
        let row = try await query(BreakGlassReviewColumns.backlog, [], "counting break-glass queries awaiting review").first
        return BreakGlassReviewColumns.backlog(
            count: row.flatMap { Self.integer($0, "count") }, oldest: row.flatMap { Self.integer($0, "oldest_ms") })
    }

    private func select(_ clause: String, _ binds: [SQLiteData]) async throws(AuditStoreError) -> [StoredAuditRecord] {
        let rows = try await query("SELECT \(AuditColumns.list) FROM audit_records \(clause)", binds)
        var result: [StoredAuditRecord] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            guard let columns = Self.columns(row) else { throw .unreadableRecord("a stored record cannot be read back") }
            result.append(try columns.storedOrThrow())
        }
        return result
    }

    private func query(_ sql: String, _ binds: [SQLiteData], _ what: String = "reading records")
        async throws(AuditStoreError) -> [SQLiteRow]
    {
        guard !isShutDown.withLock({ $0 }) else { throw .closed }
        return try await Self.sqlite(what) { try await self.reader.query(sql, binds) }
    }

    public func verify() async throws(AuditStoreError) -> AuditVerification {
        guard !isShutDown.withLock({ $0 }) else { throw .closed }
        // One statement is one snapshot: the head and the rows it covers are read consistently while appends go on.
        let walk = AuditSQLiteWalk()
        try await Self.sqlite("verifying") {
            try await self.reader.query(
                """
                SELECT h.sequence AS head_sequence, h.hash AS head_hash, \(AuditColumns.names.map { "r." + $0 }.joined(separator: ", "))
                FROM audit_chain_head h LEFT JOIN audit_records r ON r.sequence <= h.sequence
                WHERE h.id = 1 ORDER BY r.sequence
                """, []
            ) { row in
                walk.state.withLock { walk in
                    if walk.head == nil {
                        walk.head = (row.column("head_sequence")?.integer.map { Int64($0) } ?? -1, row.column("head_hash")?.string ?? "")
                    }
                    guard case .integer(let sequence) = row.column("sequence") else { return }
                    walk.verifier.check(sequence: Int64(sequence), row: Self.columns(row)?.stored)
                }
            }
        }
        return walk.state.withLock { walk in
            guard let head = walk.head else { return .broken(sequence: 1, reason: "the chain head is missing") }
            return walk.verifier.finish(headSequence: head.sequence, headHash: head.hash)
        }
    }

    public func shutdown() async {
        guard !isShutDown.withLock({ state in defer { state = true }; return state }) else { return }
        queue.close()
        await writerTask.value
        try? await writer.close()
        try? await reader.close()
    }

    // MARK: - SQL

    private static func open(_ path: String, logger: Logger) async throws(AuditStoreError) -> SQLiteConnection {
        let connection = try await sqlite("opening the audit file") {
            try await SQLiteConnection.open(storage: .file(path: path), logger: AuditDriverLogHandler.logger(wrapping: logger))
        }
        do {
            try await sqlite("configuring the audit file") {
                // busy_timeout replaces sqlite-nio's wait-forever busy handler.
                _ = try await connection.query("PRAGMA busy_timeout = 5000", [])
                _ = try await connection.query("PRAGMA journal_mode = WAL", [])
                _ = try await connection.query("PRAGMA synchronous = FULL", [])
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }

    private static func createSchema(_ connection: SQLiteConnection) async throws(AuditStoreError) {
        try await sqlite("creating the audit tables") {
            _ = try await connection.query("BEGIN IMMEDIATE", [])
            do {
                _ = try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS audit_records (
                        sequence INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, request_id TEXT NOT NULL,
                        user_id TEXT NOT NULL, user_name TEXT NOT NULL, organisation TEXT NOT NULL, role TEXT NOT NULL,
                        purpose TEXT NOT NULL, break_glass_reason TEXT, patient TEXT NOT NULL, route TEXT NOT NULL,
                        decision TEXT NOT NULL, reason TEXT NOT NULL, providers TEXT NOT NULL,
                        entries_per_category TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL,
                        via_gateway TEXT)
                    """, [])
                // A trail made before federation gains the column; its rows keep NULL there, as they hash.
                let existing = try await connection.query("PRAGMA table_info(audit_records)", [])
                if !existing.contains(where: { $0.column("name")?.string == "via_gateway" }) {
                    _ = try await connection.query("ALTER TABLE audit_records ADD COLUMN via_gateway TEXT", [])
                }
                _ = try await connection.query(
                    "CREATE INDEX IF NOT EXISTS audit_records_patient ON audit_records (patient, sequence)", [])
                // One member of staff's accesses, for an information governance investigation.
                _ = try await connection.query(
                    "CREATE INDEX IF NOT EXISTS audit_records_user ON audit_records (user_id, sequence)", [])
                // Break-glass review reads only emergency records by time: a partial index keeps it off the rest.
                _ = try await connection.query(
                    """
                    CREATE INDEX IF NOT EXISTS audit_records_break_glass ON audit_records (time_ms, sequence)
                    WHERE purpose = 'emergency'
                    """, [])
                // Break-glass reviews: append-only, each naming the query (request id) and the record it was made from.
                _ = try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS audit_reviews (
                        id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, sequence INTEGER NOT NULL,
                        time_ms INTEGER NOT NULL, reviewer_id TEXT NOT NULL, reviewer_name TEXT NOT NULL,
                        outcome TEXT NOT NULL, note TEXT)
                    """, [])
                _ = try await connection.query(
                    "CREATE INDEX IF NOT EXISTS audit_reviews_request ON audit_reviews (request_id, id)", [])
                for change in ["UPDATE", "DELETE"] {
                    _ = try await connection.query(
                        """
                        CREATE TRIGGER IF NOT EXISTS audit_reviews_no_\(change.lowercased()) BEFORE \(change) ON audit_reviews
                        BEGIN SELECT RAISE(ABORT, '\(reviewsAppendOnlyMessage)'); END
                        """, [])
                }
                _ = try await connection.query(
                    "CREATE TABLE IF NOT EXISTS audit_chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL, hash TEXT NOT NULL)",
                    [])
                _ = try await connection.query(
                    "INSERT OR IGNORE INTO audit_chain_head (id, sequence, hash) VALUES (1, 0, ?)",
                    [.text(AuditChain.genesisHash)])
                _ = try await connection.query(
                    """
                    CREATE TRIGGER IF NOT EXISTS audit_records_link BEFORE INSERT ON audit_records
                    WHEN NOT EXISTS (
                        SELECT 1 FROM audit_chain_head
                        WHERE id = 1 AND sequence = NEW.sequence - 1 AND hash = NEW.previous_hash)
                    BEGIN SELECT RAISE(ABORT, '\(staleHeadMessage)'); END
                    """, [])
                _ = try await connection.query(
                    """
                    CREATE TRIGGER IF NOT EXISTS audit_records_advance AFTER INSERT ON audit_records
                    BEGIN UPDATE audit_chain_head SET sequence = NEW.sequence, hash = NEW.hash WHERE id = 1; END
                    """, [])
                _ = try await connection.query("COMMIT", [])
            } catch {
                _ = try? await connection.query("ROLLBACK", [])
                throw error
            }
        }
    }

    /// The chain's last record as this writer knows it.
    struct ChainHead {
        var sequence: Int64
        var hash: String
    }

    /// What the reviews table says to an update or a delete.
    static let reviewsAppendOnlyMessage = "caregate: break-glass reviews are append-only"

    /// What the link trigger says when a row does not follow the head: another writer got there first.
    static let staleHeadMessage = "caregate: audit record does not link onto the chain head"

    /// One batch, one statement (so one transaction and one fsync), linked onto `head`. When the head is not known,
    /// or another writer has moved it since (the link trigger refuses the whole batch), the batch is linked inside a
    /// write transaction that reads the head first, so no other writer can move it in between.
    private static func commit(_ batch: [AuditRecord], on connection: SQLiteConnection, head: inout ChainHead?)
        async throws(AuditStoreError) -> [StoredAuditRecord]
    {
        let known = head
        head = nil
        if let known {
            let stored = AuditChain.link(batch, headSequence: known.sequence, headHash: known.hash)
            if try await insert(stored, on: connection) {
                head = ChainHead(stored[stored.count - 1])
                return stored
            }
        }
        let stored = try await sqlite("appending") {
            _ = try await connection.query("BEGIN IMMEDIATE", [])
            do {
                let current = try await readHead(connection)
                let stored = AuditChain.link(batch, headSequence: current.sequence, headHash: current.hash)
                guard try await insert(stored, on: connection) else {
                    throw AuditStoreError.unavailable("appending: the chain head moved inside a write transaction")
                }
                _ = try await connection.query("COMMIT", [])
                return stored
            } catch {
                _ = try? await connection.query("ROLLBACK", [])
                throw error
            }
        }
        head = ChainHead(stored[stored.count - 1])
        return stored
    }

    private static func readHead(_ connection: SQLiteConnection) async throws(AuditStoreError) -> ChainHead {
        let rows = try await sqlite("reading the chain head") {
            try await connection.query("SELECT sequence, hash FROM audit_chain_head WHERE id = 1", [])
        }
        guard let row = rows.first, let sequence = row.column("sequence")?.integer, let hash = row.column("hash")?.string
        else { throw .unreadableRecord("the chain head is missing") }
        return ChainHead(sequence: Int64(sequence), hash: hash)
    }

    /// Inserts the linked batch; false when the link trigger refused it because the head had moved.
    private static func insert(_ stored: [StoredAuditRecord], on connection: SQLiteConnection)
        async throws(AuditStoreError) -> Bool
    {
        let placeholders = "(" + Array(repeating: "?", count: AuditColumns.names.count).joined(separator: ", ") + ")"
        do {
            _ = try await connection.query(
                "INSERT INTO audit_records (\(AuditColumns.list)) VALUES "
                    + Array(repeating: placeholders, count: stored.count).joined(separator: ", "),
                stored.flatMap { binds(AuditColumns($0)) })
            return true
        } catch let error as SQLiteError where error.message.contains(staleHeadMessage) {
            return false
        } catch {
            throw sqliteFailure("appending", error)
        }
    }

    private static func binds(_ columns: AuditColumns) -> [SQLiteData] {
        [
            .integer(numericCast(columns.sequence)), .integer(numericCast(columns.timeMilliseconds)),
            .text(columns.requestID), .text(columns.userID), .text(columns.userName), .text(columns.organisation),
            .text(columns.role), .text(columns.purpose), columns.breakGlassReason.map(SQLiteData.text) ?? .null,
            .text(columns.patient), .text(columns.route), .text(columns.decision), .text(columns.reason),
            .text(columns.providersJSON), .text(columns.entriesPerCategoryJSON), .text(columns.previousHash),
            .text(columns.hash), columns.viaGateway.map(SQLiteData.text) ?? .null,
        ]
    }

    private static func text(_ row: SQLiteRow, _ name: String) -> String? {
        guard case .text(let value) = row.column(name) else { return nil }
        return value
    }

    private static func integer(_ row: SQLiteRow, _ name: String) -> Int64? {
        guard case .integer(let value) = row.column(name) else { return nil }
        return Int64(value)
    }

    private static func columns(_ row: SQLiteRow) -> AuditColumns? {
        func text(_ name: String) -> String? { Self.text(row, name) }
        func integer(_ name: String) -> Int64? { Self.integer(row, name) }
        guard let sequence = integer("sequence"), let time = integer("time_ms"), let requestID = text("request_id"),
            let userID = text("user_id"), let userName = text("user_name"), let organisation = text("organisation"),
            let role = text("role"), let purpose = text("purpose"), let patient = text("patient"),
            let route = text("route"), let decision = text("decision"), let reason = text("reason"),
            let providers = text("providers"), let counts = text("entries_per_category"),
            let previousHash = text("previous_hash"), let hash = text("hash")
        else { return nil }
        return AuditColumns(
            sequence: sequence, timeMilliseconds: time, requestID: requestID, userID: userID, userName: userName,
            organisation: organisation, role: role, purpose: purpose, breakGlassReason: text("break_glass_reason"),
            patient: patient, route: route, decision: decision, reason: reason, providersJSON: providers,
            entriesPerCategoryJSON: counts, previousHash: previousHash, hash: hash, viaGateway: text("via_gateway"))
    }

    /// Runs SQLite work, reducing any failure to an `AuditStoreError` whose text holds no data from the rows.
    private static func sqlite<T>(_ what: String, _ body: () async throws -> T) async throws(AuditStoreError) -> T {
        do {
            return try await body()
        } catch {
            throw sqliteFailure(what, error)
        }
    }

    private static func sqliteFailure(_ what: String, _ error: any Error) -> AuditStoreError {
        switch error {
        case let error as AuditStoreError: error
        // The reason is SQLite's result code; its message can quote values, so it is left out.
        case let error as SQLiteError: .unavailable("\(what): \(error.reason)")
        default: .unavailable("\(what): \(type(of: error))")
        }
    }
}

/// The state of `SQLiteAuditTrail.verify`'s single scan, fed row by row from SQLite's thread.
private final class AuditSQLiteWalk: Sendable {
    struct State {
        var head: (sequence: Int64, hash: String)?
        var verifier = AuditChainVerifier()
    }
    let state = Mutex(State())
}

extension SQLiteAuditTrail.ChainHead {
    /// The head once `last` is the newest record.
    init(_ last: StoredAuditRecord) {
        self.init(sequence: last.sequence, hash: last.hash)
    }
}
