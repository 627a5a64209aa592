import CareRecords
import Foundation

/// Changes to the opt-out registry as an operator makes them: each is recorded in the audit trail (who, when, which
/// patient, which change) before it is made, and is not made if the trail cannot take the record. The admin API and
/// the command line both change opt-outs through this, so that no way of changing a person's objection to sharing
/// goes unrecorded, and the patient's AuditEvents tell who changed it.
public struct AuditedOptOutChanges: Sendable {
    /// Who makes the changes, as their records name them.
    public struct Operator: Sendable {
        public var userID: String
        public var userName: String
        /// Their ODS code; empty where there is none (the command line).
        public var organisation: String
        /// Their job role code; empty where there is none.
        public var role: String
        /// Where the change was asked for: the admin route, or the command.
        public var route: String

        public init(userID: String, userName: String, organisation: String, role: String, route: String) {
            self.userID = userID
            self.userName = userName
            self.organisation = organisation
            self.role = role
            self.route = route
        }
    }

    /// The store that failed; nothing was changed after an audit failure.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case audit(AuditStoreError)
        case registry(OptOutStoreError)

        public var description: String {
            switch self {
            case .audit(let error): "the audit trail cannot take the record of the change, so it was not made: \(error)"
            case .registry(let error): "the opt-out registry: \(error)"
            }
        }
    }

    public let registry: any OptOutRegistry
    public let trail: any AuditTrail

    public init(registry: any OptOutRegistry, trail: any AuditTrail) {
        self.registry = registry
        self.trail = trail
    }

    /// Records, then adds, `patient`'s opt-out; false if they had opted out already.
    public func add(_ patient: NHSNumber, source: String, by user: Operator) async throws(Failure) -> Bool {
        try await audit(adding: true, patient, by: user)
        do { return try await registry.add(patient, source: source) } catch { throw .registry(error) }
    }

    /// Records, then removes, `patient`'s opt-out; false if they had none.
    public func remove(_ patient: NHSNumber, by user: Operator) async throws(Failure) -> Bool {
        try await audit(adding: false, patient, by: user)
        do { return try await registry.remove(patient) } catch { throw .registry(error) }
    }

    private func audit(adding: Bool, _ patient: NHSNumber, by user: Operator) async throws(Failure) {
        let record = AuditRecord.optOutChange(
            adding: adding, patient: patient, userID: user.userID, userName: user.userName,
            organisation: user.organisation, role: user.role, requestID: UUID().uuidString.lowercased(), route: user.route)
        do { _ = try await trail.append(record) } catch { throw .audit(error) }
    }
}
