import CareRecords
import Foundation

/// Who is asking, once their token has been verified. Built only by `TokenVerifier` in production;
/// the memberwise initialiser exists for tests and for the decision's callers.
///
/// Holds the launch patient's NHS number: never log a `VerifiedCaller` above debug level.
public struct VerifiedCaller: Sendable, Hashable {
    /// The scope that marks an operator (admin routes).
    public static let operatorScope = "caregate.admin"
    /// The scope that marks an information governance reviewer: the audit routes (`/admin/audit…`: search, the
    /// break-glass review and its records, verification) and nothing else of the admin API.
    public static let auditorScope = "caregate.audit"

    public var userID: String
    public var name: String
    /// ODS code.
    public var organisation: String
    /// NHS RBAC job role code, e.g. `R8000`.
    public var role: String
    public var purpose: AccessPurpose
    /// The patient the portal launched for.
    public var launchPatient: NHSNumber
    public var scopes: Set<String>
    public var expiresAt: Date
    /// The CareGate gateway that asked on the user's behalf, when the query came through another gateway
    /// (federation): its id as this gateway's `auth.gateways` names it. Nil for a portal's own token.
    public var viaGateway: String?

    public init(
        userID: String, name: String, organisation: String, role: String, purpose: AccessPurpose,
        launchPatient: NHSNumber, scopes: Set<String> = [], expiresAt: Date, viaGateway: String? = nil
    ) {
        self.userID = userID
        self.name = name
        self.organisation = organisation
        self.role = role
        self.purpose = purpose
        self.launchPatient = launchPatient
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.viaGateway = viaGateway
    }

    /// An operator's token comes straight from the identity provider: another gateway never passes on an
    /// operator's authority, whatever scopes its token names.
    public var isOperator: Bool { viaGateway == nil && scopes.contains(Self.operatorScope) }

    /// May use the audit routes: an operator, or a reviewer with the auditor scope (likewise never through another
    /// gateway).
    public var isAuditor: Bool { viaGateway == nil && (scopes.contains(Self.auditorScope) || isOperator) }
}
