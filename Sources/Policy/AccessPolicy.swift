import Foundation
import CareRecords

/// The access decision for one records request: pure, no I/O, so every rule is tested directly.
public enum AccessPolicy {
    /// The longest break-glass reason accepted, in characters: a sentence saying why the emergency needs the record.
    /// The reason is kept in the audit trail, which holds no clinical content.
    public static let breakGlassReasonLimit = 500

    /// Decides in the order the rules are written: opt-out, then legitimate relationship (or break-glass),
    /// then role. The first refusal wins, so an opted-out patient is reported as `suppressed` whoever asks.
    ///
    /// - Parameters:
    ///   - patient: the NHS number in the request path.
    ///   - breakGlassReason: the `CareGate-Break-Glass-Reason` header, if sent.
    ///   - optedOut: whether `patient` is on the opt-out registry (the caller looked it up).
    public static func decide(
        caller: VerifiedCaller, patient: NHSNumber, breakGlassReason: String?, optedOut: Bool,
        rolePolicy: RolePolicy
    ) -> AccessDecision {
        if optedOut {
            return .refused(.suppressed, "This person has opted out of sharing their record; no provider was asked.")
        }

        let breakGlass: Bool
        if patient == caller.launchPatient {
            breakGlass = false
        } else if caller.purpose == .emergency {
            let reason = breakGlassReason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !reason.isEmpty else {
                return .refused(
                    .breakGlassReasonRequired,
                    "Emergency access to a record other than the one launched for needs a stated reason "
                        + "(CareGate-Break-Glass-Reason).")
            }
            guard reason.count <= breakGlassReasonLimit else {
                return .refused(
                    .breakGlassReasonTooLong,
                    "The break-glass reason has \(reason.count) characters; at most \(breakGlassReasonLimit) are kept. "
                        + "Say why the emergency needs this record; clinical detail belongs in the care record.")
            }
            breakGlass = true
        } else {
            return .refused(
                .noLegitimateRelationship,
                "The record asked for is not the one the session was launched for, and the purpose is not emergency.")
        }

        guard let role = rolePolicy.role(caller.role) else {
            return .refused(.unknownRole, "The role \(caller.role) is not in the access policy.")
        }
        return AccessDecision(
            reason: breakGlass ? .breakGlass : .legitimateRelationship,
            message: breakGlass ? "Allowed by break-glass; this access is flagged for review." : "Allowed.",
            breakGlass: breakGlass,
            visibleCategories: role.categories,
            withheldConcepts: rolePolicy.withheldConcepts(forRole: role.code))
    }
}
