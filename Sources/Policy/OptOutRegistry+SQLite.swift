import CareRecords
import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Synchronization

/// The embedded opt-out registry: one SQLite file in the data directory, for a single gateway replica.
///
/// One connection (SQLite serialises writers anyway), WAL journal so readers never wait for a writer, and a
/// busy timeout so a lock held by another process fails the call instead of blocking it.
public final class SQLiteOptOutRegistry: OptOutRegistry {
    private let connection: Mutex<SQLiteConnection?>
    private let timeout: Duration
    private let logger: Logger

    /// Opens (creating if missing) the database file at `path` and its `opt_outs` table.
    ///
    /// The directory must exist: a missing or unusable one throws ``OptOutStoreError/unavailable``. SQLite's calls
    /// run on `threadPool`.
    public init(
        path: String,
        timeout: Duration = OptOutStoreDeadline.default,
        threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "caregate.opt-out")
    ) async throws(OptOutStoreError) {
        let opened = try await OptOutStoreDeadline.run(timeout, logger: logger) {
            try await SQLiteFile.open(
                path: path, threadPool: threadPool, logger: logger, busyTimeout: timeout,
                schema: [
                    """
                    CREATE TABLE IF NOT EXISTS opt_outs (
                        nhs_number TEXT PRIMARY KEY NOT NULL,
                        recorded_at REAL NOT NULL,
                        source TEXT NOT NULL
                    ) WITHOUT ROWID
                    """
                ])
        }
        self.connection = Mutex(opened)
        self.timeout = timeout
        self.logger = logger
        logger.debug("opt-out registry opened", metadata: ["store": "\(StoreLocation.sqlite(path: path))"])
    }

    public func isOptedOut(_ patient: NHSNumber) async throws(OptOutStoreError) -> Bool {
        try await !query("SELECT 1 FROM opt_outs WHERE nhs_number = ?1", [.text(patient.digits)]).isEmpty
    }

    @discardableResult
    public func add(_ patient: NHSNumber, source: String) async throws(OptOutStoreError) -> Bool {
        try await !query(
            """
            INSERT INTO opt_outs (nhs_number, recorded_at, source) VALUES (?1, ?2, ?3)
            ON CONFLICT (nhs_number) DO NOTHING RETURNING nhs_number
            """,
            [.text(patient.digits), .float(Date().timeIntervalSince1970), .text(source)]
        ).isEmpty
    }

    @discardableResult
    public func remove(_ patient: NHSNumber) async throws(OptOutStoreError) -> Bool {
        try await !query("DELETE FROM opt_outs WHERE nhs_number = ?1 RETURNING nhs_number", [.text(patient.digits)]).isEmpty
    }

    public func list() async throws(OptOutStoreError) -> [OptOut] {
        let rows = try await query("SELECT nhs_number, recorded_at, source FROM opt_outs ORDER BY nhs_number", [])
        return try rows.map { row throws(OptOutStoreError) -> OptOut in
            guard let digits = row.column("nhs_number")?.string,
                let seconds = row.column("recorded_at")?.double,
                let source = row.column("source")?.string,
                let number = try? NHSNumber(digits)
            else { throw .invalidStoredValue }
            return OptOut(nhsNumber: number, recordedAt: Date(timeIntervalSince1970: seconds), source: source)
        }
    }

    public func shutdown() async {
        guard let connection = self.connection.withLock({ $0.take() }) else { return }
        do {
            try await connection.close()
        } catch {
            logger.debug("opt-out registry close failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func query(_ sql: String, _ binds: [SQLiteData]) async throws(OptOutStoreError) -> [SQLiteRow] {
        guard let connection = self.connection.withLock({ $0 }) else { throw .closed }
        return try await OptOutStoreDeadline.run(timeout, logger: logger, future: { connection.query(sql, binds) })
    }
}
