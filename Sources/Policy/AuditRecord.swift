import CareRecords
import Foundation

/// One provider asked for a request, and how its part ended (the fan-out's status spelling, e.g. `ok`, `timeout`).
public struct ProviderOutcomeSummary: Sendable, Hashable, Codable {
    public var provider: String
    public var status: String

    public init(provider: String, status: String) {
        self.provider = provider
        self.status = status
    }
}

extension AuditRecord {
    /// The purpose recorded for an operator's change to a patient's opt-out (not an access to their record).
    public static let administrationPurpose = "administration"
    /// The reasons recorded for an opt-out change, requested before it is carried out.
    public static let optOutAddReason = "opt-out-add"
    public static let optOutRemoveReason = "opt-out-remove"
    /// The reason on the record of what an answer disclosed, written after it (`audit_disclosure: after-answer`); the
    /// query's access was recorded before.
    public static let disclosedReason = "disclosed"

    /// An operator's request to add (or remove) a patient's opt-out, as the trail keeps it: who, when, which patient,
    /// which change. Written before the change is made, so no change goes unrecorded.
    public static func optOutChange(
        adding: Bool, patient: NHSNumber, userID: String, userName: String, organisation: String, role: String,
        requestID: String, route: String, time: Date = Date()
    ) -> AuditRecord {
        AuditRecord(
            time: time, requestID: requestID, userID: userID, userName: userName, organisation: organisation, role: role,
            purpose: administrationPurpose, patient: patient, route: route, decision: .allowed,
            reason: adding ? optOutAddReason : optOutRemoveReason)
    }
}

/// What the audit trail keeps about one request to a records route: who asked, for what, what was decided and
/// which providers were asked. Metadata only — never clinical content; `entriesPerCategory` holds counts.
public struct AuditRecord: Sendable, Hashable, Codable {
    public enum Decision: String, Sendable, Codable {
        case allowed
        case refused
    }

    /// Kept to the millisecond: the store rounds it on append so that the stored record hashes the same when read back.
    public var time: Date
    public var requestID: String
    /// The token's `sub`.
    public var userID: String
    public var userName: String
    /// ODS code.
    public var organisation: String
    /// NHS RBAC job role code.
    public var role: String
    /// `direct-care` or `emergency`.
    public var purpose: String
    public var breakGlassReason: String?
    public var patient: NHSNumber
    /// The route template, e.g. `/v1/patients/{nhs}/record`, never the raw path.
    public var route: String
    public var decision: Decision
    /// e.g. `allowed`, `opted-out`, `no legitimate relationship`.
    public var reason: String
    public var providers: [ProviderOutcomeSummary]
    /// Entries returned per category: counts only.
    public var entriesPerCategory: [String: Int]
    /// The CareGate gateway the user asked through (federation), by the id this gateway's config gives it; nil
    /// for a user of this gateway's own portals.
    public var viaGateway: String?

    public init(
        time: Date, requestID: String, userID: String, userName: String, organisation: String, role: String,
        purpose: String, breakGlassReason: String? = nil, patient: NHSNumber, route: String, decision: Decision,
        reason: String, providers: [ProviderOutcomeSummary] = [], entriesPerCategory: [String: Int] = [:],
        viaGateway: String? = nil
    ) {
        self.time = time
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
        self.providers = providers
        self.entriesPerCategory = entriesPerCategory
        self.viaGateway = viaGateway
    }

    /// Milliseconds since 1970, the precision the stores keep.
    var timeMilliseconds: Int64 { Int64((time.timeIntervalSince1970 * 1000).rounded()) }

    /// This record with its time rounded to what the stores keep.
    var normalised: AuditRecord {
        var copy = self
        copy.time = Date(timeIntervalSince1970: Double(timeMilliseconds) / 1000)
        return copy
    }
}

/// A record as stored: its place in the chain and the hashes that link it.
public struct StoredAuditRecord: Sendable, Hashable {
    /// 1, 2, 3, … with no gaps.
    public var sequence: Int64
    public var record: AuditRecord
    /// The previous record's `hash`; 64 zeros for the first.
    public var previousHash: String
    /// Lowercase hex SHA-256; see `AuditChain`.
    public var hash: String

    public init(sequence: Int64, record: AuditRecord, previousHash: String, hash: String) {
        self.sequence = sequence
        self.record = record
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// The outcome of recomputing the whole chain.
public enum AuditVerification: Sendable, Hashable, CustomStringConvertible {
    /// Every record is present and matches its hash.
    case intact(count: Int64)
    /// The first record (by sequence) at which the chain does not hold, and why. Reasons never hold patient data.
    case broken(sequence: Int64, reason: String)

    public var description: String {
        switch self {
        case .intact(let count): "audit chain intact: \(count) records"
        case .broken(let sequence, let reason): "audit chain broken at record \(sequence): \(reason)"
        }
    }
}
