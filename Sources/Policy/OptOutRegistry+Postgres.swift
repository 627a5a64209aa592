import CareRecords
import Foundation
import Logging
import PostgresNIO

/// The shared opt-out registry: a table in PostgreSQL that every gateway replica reads on every check.
///
/// Holds a `PostgresClient` connection pool, run in a task for the registry's lifetime (from `init` until
/// ``shutdown()``). Each call leases a pooled connection; none is cached beyond the pool.
public final class PostgresOptOutRegistry: OptOutRegistry {
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let timeout: Duration
    private let logger: Logger

    /// Connects to `url` (see ``PostgresStoreURL``) and creates the `opt_outs` table if missing.
    ///
    /// - Throws: ``OptOutStoreError/invalidLocation`` for an unusable URL; `unavailable` or `timedOut` when the
    ///   server cannot be reached within `timeout`.
    public init(
        url: String,
        timeout: Duration = OptOutStoreDeadline.default,
        logger: Logger = Logger(label: "caregate.opt-out")
    ) async throws(OptOutStoreError) {
        // The pool logs connection trouble above debug; the registry reports it as OptOutStoreError instead.
        let (client, runTask): (PostgresClient, Task<Void, Never>)
        do {
            (client, runTask) = try PostgresStoreURL.startClient(url, connectTimeout: timeout)
        } catch {
            throw .invalidLocation
        }
        do throws(OptOutStoreError) {
            try await OptOutStoreDeadline.run(timeout, logger: logger) {
                try await client.createSchema(
                    lock: Self.schemaLockKey, logger: logger,
                    """
                    CREATE TABLE IF NOT EXISTS opt_outs (
                        nhs_number text PRIMARY KEY,
                        recorded_at timestamptz NOT NULL,
                        source text NOT NULL
                    )
                    """)
            }
        } catch {
            // Not awaited: a server that accepted the connection but never answers can hold the pool's
            // shutdown until the socket closes, and the caller must hear of the failure now.
            runTask.cancel()
            throw error
        }
        self.client = client
        self.runTask = runTask
        self.timeout = timeout
        self.logger = logger
        logger.debug("opt-out registry opened", metadata: ["store": "\(StoreLocation.postgres(url: url))"])
    }

    /// An arbitrary constant naming the advisory lock that serialises schema creation.
    private static let schemaLockKey: Int64 = 0x4361_7265_4f70_744f  // "CareOptO"

    public func isOptedOut(_ patient: NHSNumber) async throws(OptOutStoreError) -> Bool {
        try await run { client in
            let rows = try await client.query("SELECT 1 FROM opt_outs WHERE nhs_number = \(patient.digits)")
            return try await !rows.collect().isEmpty
        }
    }

    @discardableResult
    public func add(_ patient: NHSNumber, source: String) async throws(OptOutStoreError) -> Bool {
        try await run { client in
            let rows = try await client.query(
                """
                INSERT INTO opt_outs (nhs_number, recorded_at, source) VALUES (\(patient.digits), \(Date()), \(source))
                ON CONFLICT (nhs_number) DO NOTHING RETURNING nhs_number
                """)
            return try await !rows.collect().isEmpty
        }
    }

    @discardableResult
    public func remove(_ patient: NHSNumber) async throws(OptOutStoreError) -> Bool {
        try await run { client in
            let rows = try await client.query("DELETE FROM opt_outs WHERE nhs_number = \(patient.digits) RETURNING nhs_number")
            return try await !rows.collect().isEmpty
        }
    }

    public func list() async throws(OptOutStoreError) -> [OptOut] {
        let stored = try await run { client in
            var stored: [(String, Date, String)] = []
            let rows = try await client.query("SELECT nhs_number, recorded_at, source FROM opt_outs ORDER BY nhs_number")
            for try await row in rows.decode((String, Date, String).self) {
                stored.append(row)
            }
            return stored
        }
        return try stored.map { row throws(OptOutStoreError) -> OptOut in
            let (digits, recordedAt, source) = row
            guard let number = try? NHSNumber(digits) else { throw .invalidStoredValue }
            return OptOut(nhsNumber: number, recordedAt: recordedAt, source: source)
        }
    }

    public func shutdown() async {
        runTask.cancel()
        await runTask.value
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws(OptOutStoreError) -> T {
        guard !runTask.isCancelled else { throw .closed }
        let client = self.client
        return try await OptOutStoreDeadline.run(timeout, logger: logger) { try await body(client) }
    }
}
