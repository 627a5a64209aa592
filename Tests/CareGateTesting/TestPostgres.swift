import CareRecords
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// The PostgreSQL server the tests may use: `CAREGATE_TEST_POSTGRES_URL` (`.ci/postgres.sh` starts one and sets it).
public enum TestPostgres {
    public static let url: String? = {
        guard let url = ProcessInfo.processInfo.environment["CAREGATE_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    public static var isConfigured: Bool { url != nil }

    /// Runs `body` with a URL whose `search_path` is a fresh schema, so parallel tests never see each other's rows.
    public static func withScratchSchema<T>(_ body: (String) async throws -> T) async throws -> T {
        let url = try #require(url)
        let schema = "caregate_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin(url) { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
        }
        let scoped = url + (url.contains("?") ? "&" : "?") + "search_path=\(schema)"
        do {
            let result = try await body(scoped)
            try await admin(url) { client in _ = try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")) }
            return result
        } catch {
            try? await admin(url) { client in _ = try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")) }
            throw error
        }
    }

    /// Every row of every table in the scratch schema of `scopedURL` (from `withScratchSchema`), as text.
    public static func dumpSchema(_ scopedURL: String) async throws -> String {
        let components = try #require(URLComponents(string: scopedURL))
        let schema = try #require(components.queryItems?.first { $0.name == "search_path" }?.value)
        let text = Mutex("")
        try await admin(try #require(url)) { client in
            var tables: [String] = []
            for try await (name) in try await client.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = \(schema)"
            ).decode(String.self) {
                tables.append(name)
            }
            for table in tables {
                for try await (row) in try await client.query(
                    PostgresQuery(unsafeSQL: "SELECT t::text FROM \(schema).\"\(table)\" t")
                ).decode(String.self) {
                    text.withLock { $0 += row + "\n" }
                }
            }
        }
        return text.withLock { $0 }
    }

    private static func admin(_ url: String, _ body: @escaping @Sendable (PostgresClient) async throws -> Void) async throws {
        let components = try #require(URLComponents(string: url))
        let client = PostgresClient(configuration: .init(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
            username: components.user ?? "postgres", password: components.password,
            database: components.path.isEmpty ? nil : String(components.path.dropFirst()), tls: .disable))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            try await body(client)
            group.cancelAll()
        }
    }
}

/// Synthetic NHS numbers (the never-issued 999 range) with valid modulus-11 check digits, in ascending order.
public func syntheticNHSNumbers(_ count: Int, from start: Int = 0) -> [NHSNumber] {
    var numbers: [NHSNumber] = []
    var stem = 999_000_000 + start
    while numbers.count < count {
        let nine = String(stem).utf8.map { $0 - 48 }
        if let check = NHSNumber.checkDigit(nine) {
            numbers.append(try! NHSNumber(String(stem) + String(check)))
        }
        stem += 1
    }
    return numbers
}
