import CareRecords
import Foundation

extension AccessClaims {
    /// Claims for `caregate token`: a demo user in `role` launched for `patient`; `admin` adds the operator scope,
    /// `auditor` (without `admin`) the information governance reviewer's.
    ///
    /// Times are whole seconds, as identity providers send them; `nbf` is set a little in the past so a
    /// token is usable at once on a clock slightly behind this one.
    public static func demo(
        role: String, patient: NHSNumber, org: String = "CGDEMO", purpose: AccessPurpose = .directCare,
        admin: Bool = false, auditor: Bool = false, ttl: Duration = .seconds(15 * 60), issuer: String = DemoSigningKey.issuer,
        audience: String = DemoSigningKey.audience, now: Date = Date()
    ) -> AccessClaims {
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        return AccessClaims(
            sub: "demo-\(role.lowercased())", name: "Demo User (\(role))", org: org, role: role, purpose: purpose,
            patient: patient,
            scope: admin ? VerifiedCaller.operatorScope : auditor ? VerifiedCaller.auditorScope : nil, iss: issuer,
            aud: audience,
            exp: issued.addingTimeInterval(TimeInterval(ttl.components.seconds)),
            nbf: issued.addingTimeInterval(-5), iat: issued)
    }
}
