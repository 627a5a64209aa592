import Foundation
import Logging
import PostgresNIO

/// One change to the provider registry made through the admin API.
public struct ProviderChange: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// A definition: the provider file's text as sent.
        case defined(String)
        /// The provider's removal.
        case removed
        /// The end of every change made before it: the providers folder's definition (or its absence) holds again.
        case reset
    }

    /// Increases with every change, in the order the changes were committed.
    public var sequence: Int64
    public var provider: String
    public var action: Action

    public init(sequence: Int64, provider: String, action: Action) {
        self.sequence = sequence
        self.provider = provider
        self.action = action
    }

    /// The definition sent, for a `defined` change.
    public var definition: String? {
        if case .defined(let text) = action { text } else { nil }
    }

    /// The stores' two columns: the definition (NULL unless defined) and the reset flag.
    var columns: (definition: String?, reset: Bool) { (definition, action == .reset) }

    /// A change as the stores' two columns hold it.
    init(sequence: Int64, provider: String, definition: String?, reset: Bool) {
        self.init(
            sequence: sequence, provider: provider,
            action: reset ? .reset : definition.map(Action.defined) ?? .removed)
    }
}

/// A provider change as the history shows it: what `ProviderChange` holds, with when and by whom.
public struct ProviderChangeRecord: Sendable, Equatable {
    public var change: ProviderChange
    public var changedAt: Date
    /// The operator's user id (the token's `sub`).
    public var changedBy: String

    public init(change: ProviderChange, changedAt: Date, changedBy: String) {
        self.change = change
        self.changedAt = changedAt
        self.changedBy = changedBy
    }
}

/// The provider changes made through the admin API, in the order they were made: every replica applies them over
/// its providers folder (`SharedProviders`), so a provider registered, replaced or removed through one replica's
/// admin API is so on all of them and stays so across restarts, and each change records who made it and when. It
/// holds provider definitions and who changed them, never clinical data.
///
/// In the shared PostgreSQL store for several replicas (`PostgresProviderChangeLog`), or in a SQLite file in the data
/// directory for one (`SQLiteProviderChangeLog`).
public protocol ProviderChangeLog: Sendable {
    /// Appends a change made by `user`; returns its sequence number.
    @discardableResult
    func append(provider: String, _ action: ProviderChange.Action, changedBy user: String)
        async throws(ProviderChangeLogError) -> Int64
    /// Every change after `sequence`, in order.
    func changes(after sequence: Int64) async throws(ProviderChangeLogError) -> [ProviderChange]
    /// Every change to `provider`, oldest first: who registered, replaced or removed it, and when.
    func history(of provider: String) async throws(ProviderChangeLogError) -> [ProviderChangeRecord]
    func shutdown() async
}

/// The change log at `location`: the shared PostgreSQL store, or a SQLite file (its folder must exist).
public func makeProviderChangeLog(
    _ location: StoreLocation, logger: Logger = Logger(label: "caregate.providers")
) async throws(ProviderChangeLogError) -> any ProviderChangeLog {
    switch location {
    case .sqlite(let path): try await SQLiteProviderChangeLog(path: path, logger: logger)
    case .postgres(let url): try await PostgresProviderChangeLog(url: url, logger: logger)
    }
}

/// The change log in the shared PostgreSQL store: an append-only table.
///
/// Changes are committed one at a time (an advisory lock around each insert), so their sequence numbers are
/// committed in order and a replica reading "everything after the last one I applied" never skips one that
/// committed late.
public final class PostgresProviderChangeLog: ProviderChangeLog {
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let timeout: Duration
    private let logger: Logger

    /// Connects to `url` (see `PostgresStoreURL`) and creates the `provider_changes` table if missing.
    public init(
        url: String, timeout: Duration = .seconds(5), logger: Logger = Logger(label: "caregate.providers")
    ) async throws(ProviderChangeLogError) {
        let (client, runTask): (PostgresClient, Task<Void, Never>)
        do {
            (client, runTask) = try PostgresStoreURL.startClient(url, connectTimeout: timeout)
        } catch {
            throw .invalidLocation
        }
        self.client = client
        self.runTask = runTask
        self.timeout = timeout
        self.logger = logger
        do throws(ProviderChangeLogError) {
            try await run { client in
                try await client.createSchema(
                    lock: Self.lockKey, logger: logger,
                    """
                    CREATE TABLE IF NOT EXISTS provider_changes (
                        sequence bigserial PRIMARY KEY,
                        provider_id text NOT NULL,
                        definition text,
                        changed_at timestamptz NOT NULL,
                        changed_by text NOT NULL
                    )
                    """,
                    // A log from before resets gains the column; its changes are none.
                    "ALTER TABLE provider_changes ADD COLUMN IF NOT EXISTS reset boolean NOT NULL DEFAULT false")
            }
        } catch {
            runTask.cancel()
            throw error
        }
    }

    /// An arbitrary constant naming the advisory lock that serialises schema creation and every change.
    private static let lockKey: Int64 = 0x4361_7265_5072_6f76  // "CareProv"

    @discardableResult
    public func append(provider: String, _ action: ProviderChange.Action, changedBy user: String)
        async throws(ProviderChangeLogError) -> Int64
    {
        let logger = logger
        let (definition, reset) = ProviderChange(sequence: 0, provider: provider, action: action).columns
        return try await run { client in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                let rows = try await connection.query(
                    """
                    INSERT INTO provider_changes (provider_id, definition, reset, changed_at, changed_by)
                    VALUES (\(provider), \(definition), \(reset), \(Date()), \(user)) RETURNING sequence
                    """, logger: logger)
                for try await sequence in rows.decode(Int64.self) { return sequence }
                throw ProviderChangeLogError.unavailable
            }
        }
    }

    public func changes(after sequence: Int64) async throws(ProviderChangeLogError) -> [ProviderChange] {
        try await run { client in
            var changes: [ProviderChange] = []
            let rows = try await client.query(
                """
                SELECT sequence, provider_id, definition, reset FROM provider_changes WHERE sequence > \(sequence)
                ORDER BY sequence
                """)
            for try await (sequence, provider, definition, reset) in rows.decode((Int64, String, String?, Bool).self) {
                changes.append(ProviderChange(sequence: sequence, provider: provider, definition: definition, reset: reset))
            }
            return changes
        }
    }

    public func history(of provider: String) async throws(ProviderChangeLogError) -> [ProviderChangeRecord] {
        try await run { client in
            var records: [ProviderChangeRecord] = []
            let rows = try await client.query(
                """
                SELECT sequence, definition, reset, changed_at, changed_by FROM provider_changes
                WHERE provider_id = \(provider) ORDER BY sequence
                """)
            for try await (sequence, definition, reset, changedAt, changedBy)
                in rows.decode((Int64, String?, Bool, Date, String).self)
            {
                records.append(
                    ProviderChangeRecord(
                        change: ProviderChange(
                            sequence: sequence, provider: provider, definition: definition, reset: reset),
                        changedAt: changedAt, changedBy: changedBy))
            }
            return records
        }
    }

    public func shutdown() async {
        runTask.cancel()
        await runTask.value
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws(
        ProviderChangeLogError
    ) -> T {
        guard !runTask.isCancelled else { throw .closed }
        let (client, logger) = (client, logger)
        return try await StoreDeadline.race(timeout, timedOut: ProviderChangeLogError.timedOut) {
            () async -> Result<T, ProviderChangeLogError> in
            do {
                return .success(try await body(client))
            } catch {
                // The driver's text can hold the server's address; debug only.
                logger.debug("provider change log call failed", metadata: ["error": "\(String(reflecting: error))"])
                return .failure(.unavailable)
            }
        }.get()
    }
}

/// The provider change log could not answer. Short fixed reasons, safe to log and to return.
public enum ProviderChangeLogError: Error, Sendable, Equatable, CustomStringConvertible {
    case unavailable
    case timedOut
    case closed
    case invalidLocation

    public var description: String {
        switch self {
        case .unavailable: "the provider change store is unavailable"
        case .timedOut: "the provider change store did not answer in time"
        case .closed: "the provider change store is closed"
        case .invalidLocation: "the provider change store's location cannot be used"
        }
    }
}
