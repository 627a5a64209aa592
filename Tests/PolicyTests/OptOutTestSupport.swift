import CareRecords
import Foundation
import Logging
import Policy
import PostgresNIO
import Testing

/// The PostgreSQL server the tests may use: `CAREGATE_TEST_POSTGRES_URL` (`.ci/postgres.sh` starts one and sets it).
enum OptOutTestPostgres {
    static let url: String? = {
        guard let url = ProcessInfo.processInfo.environment["CAREGATE_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    static var isConfigured: Bool { url != nil }

    /// Runs `body` with a URL whose `search_path` is a fresh schema, so parallel tests never see each other's rows.
    static func withScratchSchema<T>(_ body: (String) async throws -> T) async throws -> T {
        let url = try #require(url)
        let schema = "opt_out_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
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

/// A store the behaviour suite runs against.
enum OptOutStoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// SQLite always; PostgreSQL only when a server is configured (its absence shows as a skipped suite).
    static let configured: [OptOutStoreKind] = OptOutTestPostgres.isConfigured ? [.sqlite, .postgres] : [.sqlite]

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh, empty store location of this kind, removed afterwards.
    func withScratchLocation<T>(_ body: (StoreLocation) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("caregate-opt-out-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            return try await body(.sqlite(path: directory.appendingPathComponent("opt-outs.sqlite").path))
        case .postgres:
            return try await OptOutTestPostgres.withScratchSchema { url in try await body(.postgres(url: url)) }
        }
    }
}

/// Opens a registry, runs `body`, and shuts it down whatever happens.
func withOptOutRegistry<T>(
    _ location: StoreLocation, logger: Logger = Logger(label: "test.opt-out"),
    _ body: (any OptOutRegistry) async throws -> T
) async throws -> T {
    let registry = try await makeOptOutRegistry(location, logger: logger)
    do {
        let result = try await body(registry)
        await registry.shutdown()
        return result
    } catch {
        await registry.shutdown()
        throw error
    }
}

/// Synthetic NHS numbers (the never-issued 999 range) with valid modulus-11 check digits, in ascending order.
func syntheticNHSNumbers(_ count: Int, from start: Int = 0) -> [NHSNumber] {
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
