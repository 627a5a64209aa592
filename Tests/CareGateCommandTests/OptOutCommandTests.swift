import CareRecords
import Foundation
import GatewayServer
import Policy
import Testing

/// `caregate opt-out add`, `remove` and `import` audit each change before making it, as the admin API does, naming
/// the operating-system account that ran the command.
@Suite struct OptOutCommandTests {
    @Test func eachChangeFromTheCommandLineIsAudited() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-oo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (first, second) = (try NHSNumber("9990000026"), try NHSNumber("9990000034"))
        try "nhs_number\n\(first.digits)\n\(second.digits)\n".write(
            toFile: folder + "/optouts.csv", atomically: true, encoding: .utf8)

        #expect(try ServeProcessTests.run(["opt-out", "add", first.digits, "--data-dir", folder]).status == 0)
        #expect(try ServeProcessTests.run(["opt-out", "remove", first.digits, "--data-dir", folder]).status == 0)
        let imported = try ServeProcessTests.run(["opt-out", "import", folder + "/optouts.csv", "--data-dir", folder])
        #expect(imported.status == 0)
        #expect(imported.output.contains("2 read, 2 newly opted out"))

        let trail = try await makeAuditTrail(.sqlite(path: folder + "/" + AccessControl.auditFile), logger: .init(label: "test"))
        let records = try await trail.records(patient: first).map(\.record)
        let other = try await trail.records(patient: second).map(\.record)
        let verification = try await trail.verify()
        await trail.shutdown()
        #expect(records.map(\.reason) == [AuditRecord.optOutAddReason, AuditRecord.optOutRemoveReason, AuditRecord.optOutAddReason])
        #expect(other.map(\.reason) == [AuditRecord.optOutAddReason])
        #expect((records + other).allSatisfy { $0.userID.hasPrefix("cli:") && $0.purpose == AuditRecord.administrationPurpose })
        #expect(verification == .intact(count: 4))
    }
}
