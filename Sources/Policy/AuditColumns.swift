import CareRecords
import Foundation

/// A stored record as the table's columns, shared by both stores. Providers and category counts are JSON text
/// (sorted keys) for storage only; the chain hashes `AuditChain`'s encoding of the decoded values.
struct AuditColumns: Sendable {
    static let names = [
        "sequence", "time_ms", "request_id", "user_id", "user_name", "organisation", "role", "purpose",
        "break_glass_reason", "patient", "route", "decision", "reason", "providers", "entries_per_category",
        "previous_hash", "hash",
    ]
    static let list = names.joined(separator: ", ")

    var sequence: Int64
    var timeMilliseconds: Int64
    var requestID: String
    var userID: String
    var userName: String
    var organisation: String
    var role: String
    var purpose: String
    var breakGlassReason: String?
    var patient: String
    var route: String
    var decision: String
    var reason: String
    var providersJSON: String
    var entriesPerCategoryJSON: String
    var previousHash: String
    var hash: String

    init(
        sequence: Int64, timeMilliseconds: Int64, requestID: String, userID: String, userName: String,
        organisation: String, role: String, purpose: String, breakGlassReason: String?, patient: String,
        route: String, decision: String, reason: String, providersJSON: String, entriesPerCategoryJSON: String,
        previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.timeMilliseconds = timeMilliseconds
        self.requestID = requestID
        self.userID = userID
        self.userName = userName
        self.organisation = organisation
        self.role = role
        self.purpose = purpose
        self.breakGlassReason = breakGlassReason
        self.patient = patient
        self.route = route
        self.decision = decision
        self.reason = reason
        self.providersJSON = providersJSON
        self.entriesPerCategoryJSON = entriesPerCategoryJSON
        self.previousHash = previousHash
        self.hash = hash
    }

    init(_ stored: StoredAuditRecord) {
        let record = stored.record
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain value types cannot fail.
        let providers = (try? encoder.encode(record.providers)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        let counts = (try? encoder.encode(record.entriesPerCategory)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        self.init(
            sequence: stored.sequence, timeMilliseconds: record.timeMilliseconds, requestID: record.requestID,
            userID: record.userID, userName: record.userName, organisation: record.organisation, role: record.role,
            purpose: record.purpose, breakGlassReason: record.breakGlassReason, patient: record.patient.digits,
            route: record.route, decision: record.decision.rawValue, reason: record.reason,
            providersJSON: providers, entriesPerCategoryJSON: counts, previousHash: stored.previousHash,
            hash: stored.hash)
    }

    /// The record these columns hold, or nil when a column no longer parses (which `verify` reports).
    var stored: StoredAuditRecord? {
        guard let patient = try? NHSNumber(self.patient),
            let decision = AuditRecord.Decision(rawValue: decision),
            let providers = try? JSONDecoder().decode([ProviderOutcomeSummary].self, from: Data(providersJSON.utf8)),
            let counts = try? JSONDecoder().decode([String: Int].self, from: Data(entriesPerCategoryJSON.utf8))
        else { return nil }
        let record = AuditRecord(
            time: Date(timeIntervalSince1970: Double(timeMilliseconds) / 1000), requestID: requestID, userID: userID,
            userName: userName, organisation: organisation, role: role, purpose: purpose,
            breakGlassReason: breakGlassReason, patient: patient, route: route, decision: decision, reason: reason,
            providers: providers, entriesPerCategory: counts)
        return StoredAuditRecord(sequence: sequence, record: record, previousHash: previousHash, hash: hash)
    }

    func storedOrThrow() throws(AuditStoreError) -> StoredAuditRecord {
        guard let stored else { throw .unreadableRecord("record \(sequence) cannot be read back") }
        return stored
    }
}
