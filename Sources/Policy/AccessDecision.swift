import CareRecords

/// The outcome of `AccessPolicy.decide`: whether to fetch a patient's record and, if so, what to hold back.
///
/// `message` is for the caller and the audit; it never holds patient data.
public struct AccessDecision: Sendable, Equatable {
    /// Machine reason codes; the raw values go into the audit, metrics labels and OperationOutcome.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Allowed: the record asked for is the one the portal launched for.
        case legitimateRelationship = "legitimate-relationship"
        /// Allowed: emergency purpose with a stated reason (break-glass).
        case breakGlass = "break-glass"
        /// Refused: the patient has opted out; no provider may be asked.
        case suppressed
        /// Refused: another patient's record, without emergency purpose.
        case noLegitimateRelationship = "no-legitimate-relationship"
        /// Refused: emergency purpose for another patient, but no break-glass reason given.
        case breakGlassReasonRequired = "break-glass-reason-required"
        /// Refused: a break-glass reason longer than `AccessPolicy.breakGlassReasonLimit` (clinical detail belongs in
        /// the care record, not in the audit trail).
        case breakGlassReasonTooLong = "break-glass-reason-too-long"
        /// Refused: the caller's role is not in the policy.
        case unknownRole = "unknown-role"

        public var isAllowed: Bool { self == .legitimateRelationship || self == .breakGlass }
    }

    public let reason: Reason
    public let message: String
    /// The request reached another patient's record through break-glass; audit and metrics flag it.
    public let breakGlass: Bool
    /// Categories the caller may see; empty when refused. Providers need not be asked for others.
    public let visibleCategories: Set<EntryCategory>
    /// Sensitive concepts withheld from this caller.
    public let withheldConcepts: Set<RolePolicy.CodedConcept>

    public var isAllowed: Bool { reason.isAllowed }

    static func refused(_ reason: Reason, _ message: String) -> AccessDecision {
        AccessDecision(reason: reason, message: message, breakGlass: false, visibleCategories: [], withheldConcepts: [])
    }

    init(
        reason: Reason, message: String, breakGlass: Bool, visibleCategories: Set<EntryCategory>,
        withheldConcepts: Set<RolePolicy.CodedConcept>
    ) {
        self.reason = reason
        self.message = message
        self.breakGlass = breakGlass
        self.visibleCategories = visibleCategories
        self.withheldConcepts = withheldConcepts
    }

    /// True when the entry must not reach this caller: everything when refused, entries outside the visible
    /// categories, and entries coded with a withheld concept. An entry whose code carries no system is
    /// withheld if its code matches any withheld concept — erring towards privacy.
    public func withholds(_ entry: CareEntry) -> Bool {
        guard isAllowed, visibleCategories.contains(entry.category) else { return true }
        guard let code = entry.code?.code, !withheldConcepts.isEmpty else { return false }
        if let system = entry.code?.system {
            return withheldConcepts.contains(RolePolicy.CodedConcept(system: system, code: code))
        }
        return withheldConcepts.contains { $0.code == code }
    }
}
