import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Synchronization

/// The provider change log of a single replica: a table in a SQLite file in the data directory
/// (`provider-changes.sqlite`), so that changes made through the admin API survive a restart and their history —
/// who registered, replaced or removed a provider, and when — is kept as with PostgreSQL.
///
/// One connection, WAL journal, a busy timeout; an append is one `INSERT`, and SQLite's own locking keeps the
/// sequence numbers in commit order.
public final class SQLiteProviderChangeLog: ProviderChangeLog {
    private let connection: Mutex<SQLiteConnection?>
    private let timeout: Duration
    private let logger: Logger

    /// Opens (creating if missing) the database file at `path` and its `provider_changes` table. The folder must
    /// exist.
    public init(
        path: String, timeout: Duration = .seconds(5), threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "caregate.providers")
    ) async throws(ProviderChangeLogError) {
        self.timeout = timeout
        self.logger = logger
        let opened = try await Self.run(timeout, logger: logger) {
            try await SQLiteFile.open(
                path: path, threadPool: threadPool, logger: logger, busyTimeout: timeout, synchronousFull: true,
                schema: [
                    """
                    CREATE TABLE IF NOT EXISTS provider_changes (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        provider_id TEXT NOT NULL,
                        definition TEXT,
                        changed_at REAL NOT NULL,
                        changed_by TEXT NOT NULL,
                        reset INTEGER NOT NULL DEFAULT 0
                    )
                    """
                ])
        }
        connection = Mutex(opened)
    }

    @discardableResult
    public func append(provider: String, _ action: ProviderChange.Action, changedBy user: String)
        async throws(ProviderChangeLogError) -> Int64
    {
        let (definition, reset) = ProviderChange(sequence: 0, provider: provider, action: action).columns
        let rows = try await query(
            """
            INSERT INTO provider_changes (provider_id, definition, reset, changed_at, changed_by)
            VALUES (?1, ?2, ?3, ?4, ?5) RETURNING sequence
            """,
            [
                .text(provider), definition.map(SQLiteData.text) ?? .null, .integer(reset ? 1 : 0),
                .float(Date().timeIntervalSince1970), .text(user),
            ])
        guard let sequence = rows.first?.column("sequence")?.integer else { throw .unavailable }
        return Int64(sequence)
    }

    public func changes(after sequence: Int64) async throws(ProviderChangeLogError) -> [ProviderChange] {
        let rows = try await query(
            "SELECT sequence, provider_id, definition, reset FROM provider_changes WHERE sequence > ?1 ORDER BY sequence",
            [.integer(Int(sequence))])
        return try rows.map { row throws(ProviderChangeLogError) in
            guard let sequence = row.column("sequence")?.integer, let provider = row.column("provider_id")?.string
            else { throw .unavailable }
            return ProviderChange(
                sequence: Int64(sequence), provider: provider, definition: row.column("definition")?.string,
                reset: row.column("reset")?.integer == 1)
        }
    }

    public func history(of provider: String) async throws(ProviderChangeLogError) -> [ProviderChangeRecord] {
        let rows = try await query(
            """
            SELECT sequence, definition, reset, changed_at, changed_by FROM provider_changes
            WHERE provider_id = ?1 ORDER BY sequence
            """, [.text(provider)])
        return try rows.map { row throws(ProviderChangeLogError) in
            guard let sequence = row.column("sequence")?.integer, let seconds = row.column("changed_at")?.double,
                let user = row.column("changed_by")?.string
            else { throw .unavailable }
            return ProviderChangeRecord(
                change: ProviderChange(
                    sequence: Int64(sequence), provider: provider, definition: row.column("definition")?.string,
                    reset: row.column("reset")?.integer == 1),
                changedAt: Date(timeIntervalSince1970: seconds), changedBy: user)
        }
    }

    public func shutdown() async {
        guard let connection = connection.withLock({ $0.take() }) else { return }
        do {
            try await connection.close()
        } catch {
            logger.debug("provider change log close failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func query(_ sql: String, _ binds: [SQLiteData]) async throws(ProviderChangeLogError) -> [SQLiteRow] {
        guard let connection = connection.withLock({ $0 }) else { throw .closed }
        return try await Self.run(timeout, logger: logger) { try await connection.query(sql, binds) }
    }

    /// SQLite work, raced against `timeout`; a failure is logged at debug (SQLite's text can quote values) and
    /// reported as `unavailable`.
    private static func run<T: Sendable>(
        _ timeout: Duration, logger: Logger, _ body: @escaping @Sendable () async throws -> T
    ) async throws(ProviderChangeLogError) -> T {
        try await StoreDeadline.race(timeout, timedOut: ProviderChangeLogError.timedOut) {
            () async -> Result<T, ProviderChangeLogError> in
            do {
                return .success(try await body())
            } catch {
                logger.debug("provider change log call failed", metadata: ["error": "\(String(reflecting: error))"])
                return .failure(.unavailable)
            }
        }.get()
    }
}
