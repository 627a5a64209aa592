import CareGateTesting
import CareRecords
import Foundation
import Logging
import Policy
import PostgresNIO
import Testing

/// A store the behaviour suite runs against.
enum OptOutStoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// SQLite always; PostgreSQL only when a server is configured (its absence shows as a skipped suite).
    static let configured: [OptOutStoreKind] = TestPostgres.isConfigured ? [.sqlite, .postgres] : [.sqlite]

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
            return try await TestPostgres.withScratchSchema { url in try await body(.postgres(url: url)) }
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
