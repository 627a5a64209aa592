import CareRecords
import Foundation
import Policy
import Testing

/// Every way of changing an opt-out goes through `AuditedOptOutChanges`: the change is recorded first, as the
/// operator who asked, and a trail that cannot take the record leaves the registry as it was.
@Suite struct AuditedOptOutChangesTests {
    static let patient = try! NHSNumber("9990000026")
    static let ig = AuditedOptOutChanges.Operator(
        userID: "user-7001", userName: "An IG Officer", organisation: "Y90001", role: "R8000", route: "/admin/opt-outs/{nhs}")

    @Test func eachChangeIsRecordedAsTheOperatorBeforeItIsMade() async throws {
        try await OptOutStoreKind.sqlite.withScratchLocation { location in
            try await withOptOutRegistry(location) { registry in
                try await AuditTestEnvironment.withStore(.sqlite) { store in
                    let trail = try await store.openTrail()
                    let changes = AuditedOptOutChanges(registry: registry, trail: trail)
                    #expect(try await changes.add(Self.patient, source: "test", by: Self.ig))
                    #expect(try await changes.add(Self.patient, source: "test", by: Self.ig) == false)
                    #expect(try await changes.remove(Self.patient, by: Self.ig))
                    let records = try await trail.records(patient: Self.patient).map(\.record)
                    // The second add changed nothing and is on record all the same: it was asked for.
                    #expect(records.map(\.reason) == [
                        AuditRecord.optOutAddReason, AuditRecord.optOutAddReason, AuditRecord.optOutRemoveReason,
                    ])
                    #expect(records.allSatisfy {
                        $0.userID == "user-7001" && $0.organisation == "Y90001" && $0.route == "/admin/opt-outs/{nhs}"
                            && $0.purpose == AuditRecord.administrationPurpose
                    })

                    // The trail closed: the change is refused and not made.
                    await trail.shutdown()
                    await #expect(throws: AuditedOptOutChanges.Failure.self) {
                        try await changes.add(Self.patient, source: "test", by: Self.ig)
                    }
                    #expect(try await registry.isOptedOut(Self.patient) == false)
                }
            }
        }
    }
}
