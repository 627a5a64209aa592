import Logging
import NIOPosix
import SQLiteNIO

/// Opening one of the gateway's SQLite files as the small stores do (the opt-out registry, the provider change log):
/// one connection, a busy timeout so that a lock another process holds fails a call instead of blocking it, the WAL
/// journal so that readers never wait for the writer, then the store's schema. On failure nothing stays open.
enum SQLiteFile {
    static func open(
        path: String, threadPool: NIOThreadPool, logger: Logger, busyTimeout: Duration, synchronousFull: Bool = false,
        schema: [String]
    ) async throws -> SQLiteConnection {
        let (seconds, attoseconds) = busyTimeout.components
        let busyMilliseconds = max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: threadPool, logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any())
        do {
            _ = try await connection.query("PRAGMA busy_timeout = \(busyMilliseconds)")
            _ = try await connection.query("PRAGMA journal_mode = WAL")
            if synchronousFull { _ = try await connection.query("PRAGMA synchronous = FULL") }
            for statement in schema { _ = try await connection.query(statement) }
        } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }
}
