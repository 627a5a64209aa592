import CareRecords
import Foundation
import GatewayServer
import Policy
import Testing

/// `caregate audit search` and `caregate audit users` read the audit store itself, as the admin API's searches do,
/// so an investigation does not need the gateway running.
@Suite struct AuditCommandTests {
    @Test func searchListsOnePatientsOrOneUsersRecordsAndUsersCountsThem() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-ac-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (first, second) = (try NHSNumber("9990000026"), try NHSNumber("9990000034"))
        let trail = try await makeAuditTrail(.sqlite(path: folder + "/" + AccessControl.auditFile), logger: .init(label: "test"))
        let now = Date()
        func query(_ user: String, _ patient: NHSNumber, decision: AuditRecord.Decision = .allowed) -> AuditRecord {
            AuditRecord(
                time: now, requestID: UUID().uuidString, userID: user, userName: "Name\tof \(user)", organisation: "Y90001",
                role: "R8000", purpose: "direct-care", patient: patient, route: "/v1/patients/{nhs}/record", decision: decision,
                reason: decision == .allowed ? "allowed" : "no-legitimate-relationship")
        }
        for record in [query("user-7001", first), query("user-7002", first), query("user-7001", second),
                       query("user-7001", second, decision: .refused)] {
            _ = try await trail.append(record)
        }
        await trail.shutdown()

        let byPatient = try ServeProcessTests.run(["audit", "search", "--patient", first.digits, "--data-dir", folder])
        #expect(byPatient.status == 0)
        let rows = byPatient.output.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        #expect(rows.first?.first == "record")
        #expect(rows.dropFirst().map { String($0[2]) } == ["user-7001", "user-7002"])
        // A tab inside a value cannot shift the columns.
        #expect(rows.dropFirst().allSatisfy { $0.count == rows[0].count })

        let byUser = try ServeProcessTests.run(["audit", "search", "--user", "user-7001", "--data-dir", folder])
        let patients = byUser.output.split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[7]) }
        #expect(patients == [first.digits, second.digits, second.digits])

        let users = try ServeProcessTests.run(["audit", "users", "--data-dir", folder])
        #expect(users.status == 0)
        let counted = users.output.split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        #expect(counted.map { $0[0] } == ["user-7001", "user-7002"])
        #expect(counted[0][3] == "R8000")
        #expect(Array(counted[0][4...7]) == ["3", "2", "0", "1"])

        for bad in [["audit", "search", "--data-dir", folder], ["audit", "search", "--patient", "123", "--data-dir", folder],
                    ["audit", "users", "--since", "yesterday", "--data-dir", folder]] {
            #expect(try ServeProcessTests.run(bad).status != 0, "\(bad)")
        }
    }
}
