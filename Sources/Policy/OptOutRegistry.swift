import CareRecords
import Foundation
import Logging

/// A patient's objection to sharing their record: while it stands, no provider is asked about them.
///
/// Only these three fields are stored — never anything clinical.
public struct OptOut: Sendable, Hashable {
    public var nhsNumber: NHSNumber
    /// When the opt-out was first recorded; adding it again does not move it.
    public var recordedAt: Date
    /// Where it came from, e.g. `admin-api`, `cli`, `import:optouts.csv`. Not for patient data.
    public var source: String

    public init(nhsNumber: NHSNumber, recordedAt: Date, source: String) {
        self.nhsNumber = nhsNumber
        self.recordedAt = recordedAt
        self.source = source
    }
}

/// The patient opt-out registry, checked before any provider is asked.
///
/// Implementations keep no cache: every `isOptedOut` reads the store, so an opt-out recorded through one
/// gateway replica holds on every replica sharing the store at once. Every call is bounded by a deadline and
/// throws ``OptOutStoreError`` when the store is down or slow — callers fail closed (503), never open.
public protocol OptOutRegistry: Sendable {
    func isOptedOut(_ patient: NHSNumber) async throws(OptOutStoreError) -> Bool
    /// Idempotent; returns false when already opted out (the first `recordedAt` and `source` are kept).
    @discardableResult func add(_ patient: NHSNumber, source: String) async throws(OptOutStoreError) -> Bool
    /// Returns false when the patient was not opted out.
    @discardableResult func remove(_ patient: NHSNumber) async throws(OptOutStoreError) -> Bool
    /// Every opt-out, ordered by NHS number.
    func list() async throws(OptOutStoreError) -> [OptOut]
    /// Releases the store; later calls throw. Call exactly once.
    func shutdown() async
}

/// Opens the registry at `location`, creating its table if missing.
///
/// - Parameters:
///   - timeout: the bound on opening and on every later call (default 2 s).
///   - logger: receives debug messages only, never an NHS number.
/// - Throws: ``OptOutStoreError`` when the store cannot be opened or reached within `timeout`.
public func makeOptOutRegistry(
    _ location: StoreLocation,
    timeout: Duration = OptOutStoreDeadline.default,
    logger: Logger
) async throws(OptOutStoreError) -> any OptOutRegistry {
    switch location {
    case .sqlite(let path):
        return try await SQLiteOptOutRegistry(path: path, timeout: timeout, logger: logger)
    case .postgres(let url):
        return try await PostgresOptOutRegistry(url: url, timeout: timeout, logger: logger)
    }
}
