import CareRecords
import Foundation
import Logging
import Policy
import PostgresNIO
import SQLiteNIO

/// A store the audit behaviour suite runs against: it opens trails on one fresh database and reaches under
/// them with plain SQL, as someone tampering with the database would.
protocol AuditTestStore: Sendable {
    var name: String { get }
    /// A new trail on this store's database — a reopen, or another replica.
    func openTrail() async throws -> any AuditTrail
    /// Runs SQL directly against the database.
    func execute(_ sql: String) async throws
    /// Every value of every column of every table, as text.
    func dumpAllValues() async throws -> [String]
    func removeDatabase() async throws
}

enum AuditTestEnvironment {
    /// Set by `.ci/postgres.sh` (a throwaway server); when unset the PostgreSQL tests are skipped, visibly.
    static let postgresURL = ProcessInfo.processInfo.environment["CAREGATE_TEST_POSTGRES_URL"]

    static let logger = Logger(label: "caregate.audit.test")

    static func withStore<T>(_ kind: AuditStoreKind, _ body: (any AuditTestStore) async throws -> T) async throws -> T {
        let store: any AuditTestStore
        switch kind {
        case .sqlite: store = try AuditSQLiteTestStore()
        case .postgres: store = try await AuditPostgresTestStore.make()
        }
        do {
            let result = try await body(store)
            try await store.removeDatabase()
            return result
        } catch {
            try? await store.removeDatabase()
            throw error
        }
    }
}

enum AuditStoreKind: String, Sendable, CustomStringConvertible {
    case sqlite
    case postgres
    var description: String { rawValue }
}

struct AuditSQLiteTestStore: AuditTestStore {
    let name = "SQLite"
    let directory: URL
    var path: String { directory.appendingPathComponent("data/audit.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-audit-\(UUID().uuidString)")
    }

    func openTrail() async throws -> any AuditTrail {
        try await makeAuditTrail(.sqlite(path: path), logger: AuditTestEnvironment.logger)
    }

    func execute(_ sql: String) async throws {
        try await withConnection { connection in _ = try await connection.query(sql, []) }
    }

    func dumpAllValues() async throws -> [String] {
        try await withConnection { connection in
            let tables = try await connection.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", [])
            var values: [String] = []
            for table in tables.compactMap({ $0.column("name")?.string }) {
                for row in try await connection.query("SELECT * FROM \"\(table)\"", []) {
                    values += row.columns.map { $0.data.string ?? "" }
                }
            }
            return values
        }
    }

    func removeDatabase() async throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func withConnection<T: Sendable>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// A fresh database per test on the server at `CAREGATE_TEST_POSTGRES_URL`, so tests can run in parallel.
struct AuditPostgresTestStore: AuditTestStore {
    let name = "PostgreSQL"
    let serverURL: URLComponents
    let database: String

    var url: String {
        var components = serverURL
        components.path = "/" + database
        return components.string!
    }

    static func make() async throws -> AuditPostgresTestStore {
        guard let text = AuditTestEnvironment.postgresURL, let components = URLComponents(string: text) else {
            throw AuditTestSetupError("CAREGATE_TEST_POSTGRES_URL is not set")
        }
        let store = AuditPostgresTestStore(
            serverURL: components, database: "caregate_audit_\(UUID().uuidString.prefix(8).lowercased())")
        _ = try await store.withConnection(database: components.path.dropFirst().isEmpty ? "postgres" : String(components.path.dropFirst())) {
            try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(store.database)"), logger: AuditTestEnvironment.logger)
        }
        return store
    }

    func openTrail() async throws -> any AuditTrail {
        try await makeAuditTrail(.postgres(url: url), logger: AuditTestEnvironment.logger)
    }

    func execute(_ sql: String) async throws {
        _ = try await withConnection(database: database) {
            try await $0.query(PostgresQuery(unsafeSQL: sql), logger: AuditTestEnvironment.logger)
        }
    }

    func dumpAllValues() async throws -> [String] {
        try await withConnection(database: database) { connection in
            var tables: [String] = []
            for try await (table) in try await connection.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
                logger: AuditTestEnvironment.logger
            ).decode(String.self) { tables.append(table) }
            var values: [String] = []
            for table in tables {
                // Every column cast to text, so nothing hides in a type the test does not know.
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT json_each_text.value FROM \"\(table)\" t, json_each_text(row_to_json(t))"),
                    logger: AuditTestEnvironment.logger)
                for try await value in rows.decode(String?.self) { values.append(value ?? "") }
            }
            return values
        }
    }

    func removeDatabase() async throws {
        _ = try await withConnection(database: serverURL.path.dropFirst().isEmpty ? "postgres" : String(serverURL.path.dropFirst())) {
            try await $0.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"), logger: AuditTestEnvironment.logger)
        }
    }

    private func withConnection<T>(database: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: serverURL.host ?? "127.0.0.1", port: serverURL.port ?? 5432, username: serverURL.user ?? "postgres",
            password: serverURL.password, database: database, tls: .disable)
        let connection = try await PostgresConnection.connect(
            configuration: configuration, id: 1, logger: AuditTestEnvironment.logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

struct AuditTestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Synthetic NHS numbers (999…, valid modulus 11), never issued to real people.
enum AuditSyntheticPatients {
    static func number(_ index: Int) -> NHSNumber {
        var candidate = index
        while true {
            let nine = "999" + String(format: "%06d", candidate % 1_000_000)
            let digits = nine.utf8.map { $0 - 48 }
            if let check = NHSNumber.checkDigit(digits) {
                return try! NHSNumber(nine + String(check))
            }
            candidate += 1
        }
    }

    static func record(
        patient: NHSNumber = number(1), requestID: String = "req-1", decision: AuditRecord.Decision = .allowed,
        reason: String = "allowed", time: Date = Date(timeIntervalSince1970: 1_795_000_000.123)
    ) -> AuditRecord {
        AuditRecord(
            time: time, requestID: requestID, userID: "user-5551", userName: "Test Clinician A", organisation: "Y90001",
            role: "R8000", purpose: "direct-care", breakGlassReason: nil, patient: patient,
            route: "/v1/patients/{nhs}/record", decision: decision, reason: reason,
            providers: [
                ProviderOutcomeSummary(provider: "gp-practice", status: "ok"),
                ProviderOutcomeSummary(provider: "ambulance", status: "timeout"),
            ],
            entriesPerCategory: ["medication": 4, "problem": 2])
    }
}
