import CareRecords
import Foundation
import Testing

@testable import Policy

@Suite("Access decision")
struct AccessPolicyTests {
    static let launched = try! NHSNumber("9990000018")
    static let other = try! NHSNumber("9990000026")
    static let snomed = Coding.System.snomedCT

    static let policy = RolePolicy(
        roles: [
            .init(code: "R8000", categories: Set(EntryCategory.allCases)),
            .init(code: "R8008", categories: [.appointment, .medication, .allergy]),
        ],
        sensitiveGroups: [
            .init(
                name: "sexual-health", concepts: [.init(system: "snomed", code: "76272004")],
                allowedRoles: ["R8000"])
        ])

    func caller(role: String = "R8000", purpose: AccessPurpose = .directCare) -> VerifiedCaller {
        VerifiedCaller(
            userID: "u1", name: "Test User", organisation: "RX1", role: role, purpose: purpose,
            launchPatient: Self.launched, expiresAt: Date().addingTimeInterval(600))
    }

    func decide(
        _ caller: VerifiedCaller, patient: NHSNumber = launched, reason: String? = nil, optedOut: Bool = false
    ) -> AccessDecision {
        AccessPolicy.decide(
            caller: caller, patient: patient, breakGlassReason: reason, optedOut: optedOut, rolePolicy: Self.policy)
    }

    func entry(_ category: EntryCategory, code: String? = nil, system: String? = Coding.System.snomedCT) -> CareEntry {
        CareEntry(
            category: category, code: code.map { Coding(system: system, code: $0) }, summary: "synthetic",
            source: SourceReference(provider: ProviderID("gp"), id: "1"))
    }

    @Test("the launch patient is allowed, not flagged, with the role's categories")
    func allowed() {
        let decision = decide(caller())
        #expect(decision.isAllowed)
        #expect(decision.reason == .legitimateRelationship)
        #expect(!decision.breakGlass)
        #expect(decision.visibleCategories == Set(EntryCategory.allCases))
    }

    @Test("an opted-out patient is suppressed, before any other rule")
    func optedOut() {
        for decision in [
            decide(caller(), optedOut: true),
            decide(caller(role: "R9999"), patient: Self.other, optedOut: true),
            decide(caller(purpose: .emergency), patient: Self.other, reason: "collapsed in A&E", optedOut: true),
        ] {
            #expect(!decision.isAllowed)
            #expect(decision.reason == .suppressed)
            #expect(decision.visibleCategories.isEmpty)
        }
    }

    @Test("another patient for direct care is refused")
    func noRelationship() {
        let decision = decide(caller(), patient: Self.other)
        #expect(decision.reason == .noLegitimateRelationship)
        #expect(!decision.message.contains(Self.other.digits))
        #expect(!decision.message.contains(Self.launched.digits))
    }

    @Test("a break-glass reason without emergency purpose is refused")
    func reasonWithoutEmergency() {
        #expect(decide(caller(), patient: Self.other, reason: "I am curious").reason == .noLegitimateRelationship)
    }

    @Test("emergency without a reason (or a blank one) is refused")
    func emergencyWithoutReason() {
        for reason in [nil, "", "   \n"] {
            let decision = decide(caller(purpose: .emergency), patient: Self.other, reason: reason)
            #expect(!decision.isAllowed)
            #expect(decision.reason == .breakGlassReasonRequired)
        }
    }

    @Test("a break-glass reason over the limit is refused; one at it is allowed")
    func breakGlassReasonLimit() {
        let atLimit = String(repeating: "x", count: AccessPolicy.breakGlassReasonLimit)
        #expect(decide(caller(purpose: .emergency), patient: Self.other, reason: " \(atLimit) \n").reason == .breakGlass)
        let over = decide(caller(purpose: .emergency), patient: Self.other, reason: atLimit + "y")
        #expect(over.reason == .breakGlassReasonTooLong)
        #expect(!over.isAllowed)
        #expect(over.message.contains("\(AccessPolicy.breakGlassReasonLimit + 1) characters"))
    }

    @Test("emergency with a reason is allowed and flagged as break-glass")
    func breakGlass() {
        let decision = decide(caller(purpose: .emergency), patient: Self.other, reason: "unconscious, brought in by ambulance")
        #expect(decision.isAllowed)
        #expect(decision.reason == .breakGlass)
        #expect(decision.breakGlass)
    }

    @Test("emergency purpose on the launch patient is ordinary access, not break-glass")
    func emergencyOnOwnPatient() {
        let decision = decide(caller(purpose: .emergency), reason: "x")
        #expect(decision.isAllowed)
        #expect(!decision.breakGlass)
    }

    @Test("an unknown role is refused, even on break-glass")
    func unknownRole() {
        #expect(decide(caller(role: "R9999")).reason == .unknownRole)
        #expect(decide(caller(role: "R9999", purpose: .emergency), patient: Self.other, reason: "x").reason == .unknownRole)
    }

    @Test("categories outside the role and sensitive codes are withheld; the rest pass")
    func withholding() {
        let admin = decide(caller(role: "R8008"))
        #expect(admin.isAllowed)
        #expect(admin.visibleCategories == [.appointment, .medication, .allergy])
        #expect(admin.withholds(entry(.testResult)))
        #expect(!admin.withholds(entry(.medication, code: "12345678")))
        #expect(admin.withholds(entry(.appointment, code: "76272004")))
        // The same concept via CDA's OID, or with no system at all, is still withheld.
        #expect(admin.withholds(entry(.appointment, code: "76272004", system: "2.16.840.1.113883.6.96")))
        #expect(admin.withholds(entry(.appointment, code: "76272004", system: nil)))
        // Same code text in an unrelated system is not the sensitive concept.
        #expect(!admin.withholds(entry(.appointment, code: "76272004", system: "https://local.example/codes")))

        let clinician = decide(caller())
        #expect(!clinician.withholds(entry(.condition, code: "76272004")))
    }

    @Test("a refused decision withholds everything")
    func refusedWithholdsAll() {
        let decision = decide(caller(), patient: Self.other)
        #expect(EntryCategory.allCases.allSatisfy { decision.withholds(entry($0)) })
    }
}
