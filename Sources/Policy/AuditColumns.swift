import CareRecords
import Foundation

/// A stored record as the table's columns, shared by both stores. Providers and category counts are JSON text
/// (sorted keys) for storage only; the chain hashes `AuditChain`'s encoding of the decoded values.
struct AuditColumns: Sendable {
    static let names = [
        "sequence", "time_ms", "request_id", "user_id", "user_name", "organisation", "role", "purpose",
        "break_glass_reason", "patient", "route", "decision", "reason", "providers", "entries_per_category",
        "previous_hash", "hash", "via_gateway",
    ]
    static let list = names.joined(separator: ", ")

    /// A search's time bound as the `time_ms` it compares with: the first whole millisecond at or after `date`
    /// (nil: `unbounded`, by default no lower bound).
    static func milliseconds(_ date: Date?, unbounded: Int64 = .min) -> Int64 {
        guard let date else { return unbounded }
        return Int64((date.timeIntervalSince1970 * 1000).rounded(.up))
    }

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
    var viaGateway: String?

    init(
        sequence: Int64, timeMilliseconds: Int64, requestID: String, userID: String, userName: String,
        organisation: String, role: String, purpose: String, breakGlassReason: String?, patient: String,
        route: String, decision: String, reason: String, providersJSON: String, entriesPerCategoryJSON: String,
        previousHash: String, hash: String, viaGateway: String?
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
        self.viaGateway = viaGateway
    }

    init(_ stored: StoredAuditRecord) {
        let record = stored.record
        self.init(
            sequence: stored.sequence, timeMilliseconds: record.timeMilliseconds, requestID: record.requestID,
            userID: record.userID, userName: record.userName, organisation: record.organisation, role: record.role,
            purpose: record.purpose, breakGlassReason: record.breakGlassReason, patient: record.patient.digits,
            route: record.route, decision: record.decision.rawValue, reason: record.reason,
            providersJSON: Self.json(record.providers), entriesPerCategoryJSON: Self.json(record.entriesPerCategory),
            previousHash: stored.previousHash,
            hash: stored.hash, viaGateway: record.viaGateway)
    }

    /// `[{"provider":…,"status":…},…]`, as `JSONEncoder` with sorted keys writes it; written directly, as this runs
    /// for every audited request (`JSONEncoder` was 1 % of the gateway's CPU in `perf`).
    static func json(_ providers: [ProviderOutcomeSummary]) -> String {
        var output = JSONOutput(reservingCapacity: 32 * providers.count + 2)
        output.byte("[")
        for (index, provider) in providers.enumerated() {
            if index > 0 { output.byte(",") }
            output.byte("{")
            output.key("provider")
            output.string(provider.provider)
            output.byte(",")
            output.key("status")
            output.string(provider.status)
            output.byte("}")
        }
        output.byte("]")
        return String(decoding: output.bytes, as: UTF8.self)
    }

    /// `{"category":count,…}` with keys in byte order, as `JSONEncoder` with sorted keys writes ASCII keys.
    static func json(_ counts: [String: Int]) -> String {
        var output = JSONOutput(reservingCapacity: 24 * counts.count + 2)
        output.byte("{")
        for (index, (category, count)) in counts.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
            .enumerated()
        {
            if index > 0 { output.byte(",") }
            output.key(category)
            output.integer(count)
        }
        output.byte("}")
        return String(decoding: output.bytes, as: UTF8.self)
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
            providers: providers, entriesPerCategory: counts, viaGateway: viaGateway)
        return StoredAuditRecord(sequence: sequence, record: record, previousHash: previousHash, hash: hash)
    }

    func storedOrThrow() throws(AuditStoreError) -> StoredAuditRecord {
        guard let stored else { throw .unreadableRecord("record \(sequence) cannot be read back") }
        return stored
    }
}
