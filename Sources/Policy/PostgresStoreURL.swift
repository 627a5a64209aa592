import Foundation
import Logging
import PostgresNIO

/// Reads a `store.url` of the form `postgres://user:password@host:port/database?sslmode=…&search_path=…`.
///
/// - `postgresql://` is accepted too; port defaults to 5432, database to the user's name (PostgreSQL's rule).
/// - `sslmode`: `disable`; `prefer` (default: TLS when the server offers it); `require`, `verify-ca` or
///   `verify-full` (TLS required, and the certificate is always verified).
/// - `search_path`: sent at connection start, so the tables live in that schema (used by tests to isolate runs).
/// - `host=/path/to/dir` as a query item connects through that Unix socket directory instead of TCP.
/// User and password may be percent-encoded.
///
/// One parser for both stores (opt-outs and audit), so that a URL means the same database and schema to each.
enum PostgresStoreURL {
    /// Why a URL was refused; never repeats the URL (it may hold a password).
    struct Invalid: Error {
        let reason: String
    }

    /// A connection pool for the URL, already running (in the returned task, until it is cancelled). The pool
    /// logs connection trouble above debug only to `backgroundLogger`; the stores report it in their own terms.
    static func startClient(
        _ text: String, connectTimeout: Duration, configure: (inout PostgresClient.Configuration) -> Void = { _ in },
        backgroundLogger: Logger? = nil
    ) throws(Invalid) -> (client: PostgresClient, run: Task<Void, Never>) {
        var configuration = try configuration(text)
        configuration.options.connectTimeout = connectTimeout
        configure(&configuration)
        let client =
            backgroundLogger.map { PostgresClient(configuration: configuration, backgroundLogger: $0) }
            ?? PostgresClient(configuration: configuration)
        return (client, Task { await client.run() })
    }

    static func configuration(_ text: String) throws(Invalid) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else { throw Invalid(reason: "not a postgres://user@host:port/database URL") }
        guard let username = components.user, !username.isEmpty else {
            throw Invalid(reason: "the URL names no user")
        }

        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            query[item.name] = item.value ?? ""
        }
        let database = components.path.isEmpty ? nil : String(components.path.dropFirst())

        var configuration: PostgresClient.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let port = components.port ?? 5432
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username,
                password: components.password, database: database)
        } else {
            guard let host = components.host, !host.isEmpty else { throw Invalid(reason: "the URL names no host") }
            let tls: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "prefer" {
            case "disable": tls = .disable
            case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
            case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
            default: throw Invalid(reason: "unknown sslmode")
            }
            configuration = .init(
                host: host, port: components.port ?? 5432, username: username,
                password: components.password, database: database, tls: tls)
        }
        if let searchPath = query["search_path"], !searchPath.isEmpty {
            configuration.options.additionalStartupParameters.append(("search_path", searchPath))
        }
        return configuration
    }
}

extension PostgresClient {
    /// Runs `statements` (`CREATE TABLE IF NOT EXISTS …`) in one transaction holding the advisory lock `key`:
    /// replicas starting together would otherwise race on creating the same tables.
    func createSchema(lock key: Int64, logger: Logger, _ statements: PostgresQuery...) async throws {
        try await withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(key))", logger: logger)
            for statement in statements { try await connection.query(statement, logger: logger) }
        }
    }
}
