import CareRecords
import Foundation
import Testing

@testable import Policy

@Suite("Access claims and token lifetimes")
struct ClaimsTests {
    @Test("lifetimes parse from s, m and h", arguments: [("90s", 90), ("15m", 900), ("1h", 3600), ("24h", 86400)])
    func lifetimes(text: String, seconds: Int) throws {
        #expect(try TokenLifetime.parse(text) == .seconds(seconds))
    }

    @Test("malformed or excessive lifetimes give a clear error", arguments: ["", "15", "m", "-5m", "0s", "1.5h", "15 m", "2d", "25h", "99999999999999999h"])
    func badLifetimes(text: String) {
        #expect(throws: TokenLifetimeError.self) { try TokenLifetime.parse(text) }
    }

    @Test("demo claims carry the demo issuer and audience, whole-second times and the admin scope when asked")
    func demoClaims() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000.7)
        let claims = AccessClaims.demo(
            role: "R8008", patient: try NHSNumber("9990000042"), org: "RX1", admin: true, ttl: .seconds(60), now: now)
        #expect(claims.iss.value == "caregate-demo")
        #expect(claims.aud.value == ["caregate"])
        #expect(claims.exp.value == Date(timeIntervalSince1970: 1_800_000_060))
        #expect(claims.scope == "caregate.admin")
        #expect(claims.purpose == .directCare)
        #expect(throws: Never.self) { try claims.verifyTime(now: now) }
        #expect(throws: (any Error).self) { try claims.verifyTime(now: now.addingTimeInterval(120)) }
    }

    @Test("claims encode with the CIS2-style names")
    func claimNames() throws {
        let claims = AccessClaims.demo(role: "R8000", patient: try NHSNumber("9990000042"))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(claims)) as! [String: Any]
        #expect(Set(object.keys).isSubset(of: AccessClaims.claimNames))
        #expect(Set(["sub", "name", "org", "role", "purpose", "patient", "iss", "aud", "exp"]).isSubset(of: Set(object.keys)))
        #expect(object["patient"] as? String == "9990000042")
        #expect(object["purpose"] as? String == "direct-care")
    }
}
