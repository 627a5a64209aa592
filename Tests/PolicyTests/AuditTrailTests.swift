import CareRecords
import Foundation
import Policy
import Testing

/// The audit trail's behaviour, run against each store. PostgreSQL runs only where `CAREGATE_TEST_POSTGRES_URL`
/// points at a server (`.ci/postgres.sh` starts a throwaway one); elsewhere it is skipped with that message.
@Suite("Audit trail behaviour")
struct AuditTrailBehaviourTests {
    @Suite("on SQLite")
    struct OnSQLite {
        @Test func appendsAndReadsBackByPatient() async throws { try await AuditTrailBehaviour.appendsAndReadsBackByPatient(.sqlite) }
        @Test func concurrentAppendsKeepOneChain() async throws { try await AuditTrailBehaviour.concurrentAppendsKeepOneChain(.sqlite) }
        @Test func twoTrailsOnOneDatabaseKeepOneChain() async throws { try await AuditTrailBehaviour.twoTrailsOnOneDatabaseKeepOneChain(.sqlite) }
        @Test func verifyNamesAnEditedRecord() async throws { try await AuditTrailBehaviour.verifyNamesAnEditedRecord(.sqlite) }
        @Test func verifyNamesADeletedRecord() async throws { try await AuditTrailBehaviour.verifyNamesADeletedRecord(.sqlite) }
        @Test func verifyNamesDeletedNewestRecords() async throws { try await AuditTrailBehaviour.verifyNamesDeletedNewestRecords(.sqlite) }
        @Test func persistsAcrossReopen() async throws { try await AuditTrailBehaviour.persistsAcrossReopen(.sqlite) }
        @Test func storesOnlyTheMetadataGiven() async throws { try await AuditTrailBehaviour.storesOnlyTheMetadataGiven(.sqlite) }
        @Test func failsAfterShutdown() async throws { try await AuditTrailBehaviour.failsAfterShutdown(.sqlite) }
        @Test func recordsTheGatewayAQueryCameThrough() async throws {
            try await AuditTrailBehaviour.recordsTheGatewayAQueryCameThrough(.sqlite)
        }
        @Test func aTrailFromBeforeFederationGainsTheColumn() async throws {
            try await AuditTrailBehaviour.aTrailFromBeforeFederationGainsTheColumn(.sqlite)
        }
        @Test func breakGlassRecordsAreFoundByTimeAPageAtATime() async throws {
            try await AuditTrailBehaviour.breakGlassRecordsAreFoundByTimeAPageAtATime(.sqlite)
        }
        @Test func oneUsersRecordsAreFoundFromATimeAPageAtATime() async throws {
            try await AuditTrailBehaviour.oneUsersRecordsAreFoundFromATimeAPageAtATime(.sqlite)
        }
        @Test func accessVolumeCountsEachUsersQueriesAndPatientsInThePeriod() async throws {
            try await AuditTrailBehaviour.accessVolumeCountsEachUsersQueriesAndPatientsInThePeriod(.sqlite)
        }
        @Test func breakGlassReviewsAreKeptPerQueryAndListedWithTheirRecords() async throws {
            try await AuditTrailBehaviour.breakGlassReviewsAreKeptPerQueryAndListedWithTheirRecords(.sqlite)
        }

        /// The file itself keeps the chain linear: a row that does not follow the head is refused, whoever writes it,
        /// and a trail whose remembered head another writer has moved links its next batch onto the new head.
        @Test func theFileRefusesARecordThatDoesNotLinkOntoTheHead() async throws {
            try await AuditTrailBehaviour.withTrail(.sqlite) { store, trail in
                let first = try await trail.append(AuditSyntheticPatients.record(requestID: "r1"))
                let forged = { (sequence: Int64, previous: String) in
                    """
                    INSERT INTO audit_records (sequence, time_ms, request_id, user_id, user_name, organisation, role,
                        purpose, patient, route, decision, reason, providers, entries_per_category, previous_hash, hash)
                    VALUES (\(sequence), 0, 'forged', 'u', 'n', 'o', 'r', 'p', '9990000018', '/', 'allowed', 'allowed',
                        '[]', '{}', '\(previous)', '\(String(repeating: "f", count: 64))')
                    """
                }
                // Skipping a place, and claiming the right place with the wrong link, are both refused.
                await #expect(throws: (any Error).self) { try await store.execute(forged(3, first.hash)) }
                await #expect(throws: (any Error).self) {
                    try await store.execute(forged(2, String(repeating: "0", count: 64)))
                }

                let other = try await store.openTrail()
                let second = try await other.append(AuditSyntheticPatients.record(requestID: "r2"))
                await other.shutdown()
                let third = try await trail.append(AuditSyntheticPatients.record(requestID: "r3"))
                #expect([first.sequence, second.sequence, third.sequence] == [1, 2, 3])
                #expect(third.previousHash == second.hash)
                #expect(try await trail.verify() == .intact(count: 3))
            }
        }
    }

    // Skipped, with this message in the test output, where no PostgreSQL server is configured.
    @Suite("on PostgreSQL", .enabled(if: AuditTestEnvironment.postgresURL != nil, "CAREGATE_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against"))
    struct OnPostgreSQL {
        @Test func appendsAndReadsBackByPatient() async throws { try await AuditTrailBehaviour.appendsAndReadsBackByPatient(.postgres) }
        @Test func concurrentAppendsKeepOneChain() async throws { try await AuditTrailBehaviour.concurrentAppendsKeepOneChain(.postgres) }
        @Test func twoTrailsOnOneDatabaseKeepOneChain() async throws { try await AuditTrailBehaviour.twoTrailsOnOneDatabaseKeepOneChain(.postgres) }
        @Test func verifyNamesAnEditedRecord() async throws { try await AuditTrailBehaviour.verifyNamesAnEditedRecord(.postgres) }
        @Test func verifyNamesADeletedRecord() async throws { try await AuditTrailBehaviour.verifyNamesADeletedRecord(.postgres) }
        @Test func verifyNamesDeletedNewestRecords() async throws { try await AuditTrailBehaviour.verifyNamesDeletedNewestRecords(.postgres) }
        @Test func persistsAcrossReopen() async throws { try await AuditTrailBehaviour.persistsAcrossReopen(.postgres) }
        @Test func storesOnlyTheMetadataGiven() async throws { try await AuditTrailBehaviour.storesOnlyTheMetadataGiven(.postgres) }
        @Test func failsAfterShutdown() async throws { try await AuditTrailBehaviour.failsAfterShutdown(.postgres) }
        @Test func recordsTheGatewayAQueryCameThrough() async throws {
            try await AuditTrailBehaviour.recordsTheGatewayAQueryCameThrough(.postgres)
        }
        @Test func aTrailFromBeforeFederationGainsTheColumn() async throws {
            try await AuditTrailBehaviour.aTrailFromBeforeFederationGainsTheColumn(.postgres)
        }
        @Test func breakGlassRecordsAreFoundByTimeAPageAtATime() async throws {
            try await AuditTrailBehaviour.breakGlassRecordsAreFoundByTimeAPageAtATime(.postgres)
        }
        @Test func oneUsersRecordsAreFoundFromATimeAPageAtATime() async throws {
            try await AuditTrailBehaviour.oneUsersRecordsAreFoundFromATimeAPageAtATime(.postgres)
        }
        @Test func accessVolumeCountsEachUsersQueriesAndPatientsInThePeriod() async throws {
            try await AuditTrailBehaviour.accessVolumeCountsEachUsersQueriesAndPatientsInThePeriod(.postgres)
        }
        @Test func breakGlassReviewsAreKeptPerQueryAndListedWithTheirRecords() async throws {
            try await AuditTrailBehaviour.breakGlassReviewsAreKeptPerQueryAndListedWithTheirRecords(.postgres)
        }
    }
}

/// The behaviour itself, once, for any store.
enum AuditTrailBehaviour {
    typealias Patients = AuditSyntheticPatients

    static func withTrail(_ kind: AuditStoreKind, _ body: (any AuditTestStore, any AuditTrail) async throws -> Void) async throws {
        try await AuditTestEnvironment.withStore(kind) { store in
            let trail = try await store.openTrail()
            do {
                try await body(store, trail)
                await trail.shutdown()
            } catch {
                await trail.shutdown()
                throw error
            }
        }
    }

    static func appendsAndReadsBackByPatient(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { _, trail in
            let first = Patients.record(patient: Patients.number(1), requestID: "a")
            var second = Patients.record(patient: Patients.number(2), requestID: "b", decision: .refused, reason: "opted-out")
            second.providers = []
            second.entriesPerCategory = [:]
            var third = Patients.record(patient: Patients.number(1), requestID: "c", reason: "allowed")
            third.purpose = "emergency"
            third.breakGlassReason = "unconscious in ED"

            let stored = [try await trail.append(first), try await trail.append(second), try await trail.append(third)]
            #expect(stored.map(\.sequence) == [1, 2, 3])
            #expect(stored[0].previousHash == String(repeating: "0", count: 64))
            #expect(stored[1].previousHash == stored[0].hash)

            let forOne = try await trail.records(patient: Patients.number(1))
            #expect(forOne == [stored[0], stored[2]])
            #expect(forOne.map(\.record) == [first, third])
            #expect(try await trail.records(patient: Patients.number(2)).map(\.record) == [second])
            #expect(try await trail.records(patient: Patients.number(3)).isEmpty)
            #expect(try await trail.verify() == .intact(count: 3))
        }
    }

    static func concurrentAppendsKeepOneChain(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { _, trail in
            for index in 0..<20 { _ = try await trail.append(Patients.record(requestID: "serial-\(index)")) }
            let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await trail.append(Patients.record(patient: Patients.number(index % 7), requestID: "concurrent-\(index)")).sequence
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(sequences) == Set(21...220))
            #expect(try await trail.verify() == .intact(count: 220))
        }
    }

    static func twoTrailsOnOneDatabaseKeepOneChain(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { store, first in
            let second = try await store.openTrail()
            let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<100 {
                    let trail = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await trail.append(Patients.record(requestID: "replica-\(index)")).sequence }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await second.shutdown()
            #expect(Set(sequences) == Set(1...100))
            #expect(try await first.verify() == .intact(count: 100))
        }
    }

    static func verifyNamesAnEditedRecord(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { store, trail in
            for index in 1...10 { _ = try await trail.append(Patients.record(requestID: "r\(index)")) }
            try await store.execute("UPDATE audit_records SET reason = 'no legitimate relationship' WHERE sequence = 7")
            try await store.execute("UPDATE audit_records SET user_name = 'Someone Else' WHERE sequence = 9")
            let verification = try await trail.verify()
            guard case .broken(let sequence, let reason) = verification else {
                Issue.record("an edited record went unnoticed: \(verification)")
                return
            }
            #expect(sequence == 7)
            #expect(reason.contains("edited"))
        }
    }

    static func verifyNamesADeletedRecord(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { store, trail in
            for index in 1...10 { _ = try await trail.append(Patients.record(requestID: "r\(index)")) }
            try await store.execute("DELETE FROM audit_records WHERE sequence = 4")
            let verification = try await trail.verify()
            guard case .broken(let sequence, let reason) = verification else {
                Issue.record("a deleted record went unnoticed: \(verification)")
                return
            }
            #expect(sequence == 4)
            #expect(reason.contains("missing"))

            // Renumbering the rest to close the gap breaks the link instead.
            try await store.execute("UPDATE audit_records SET sequence = sequence - 1 WHERE sequence > 4")
            let renumbered = try await trail.verify()
            guard case .broken(let renumberedSequence, _) = renumbered else {
                Issue.record("a renumbered chain went unnoticed: \(renumbered)")
                return
            }
            #expect(renumberedSequence == 4)
        }
    }

    static func verifyNamesDeletedNewestRecords(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { store, trail in
            for index in 1...10 { _ = try await trail.append(Patients.record(requestID: "r\(index)")) }
            try await store.execute("DELETE FROM audit_records WHERE sequence >= 9")
            #expect(try await trail.verify() == .broken(sequence: 9, reason: "records 9–10 are missing (the chain head is at 10)"))
        }
    }

    /// A query that came through another gateway (federation) names it, and the name is in the chain's hash.
    static func recordsTheGatewayAQueryCameThrough(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { store, trail in
            var federated = Patients.record(requestID: "via-hub")
            federated.viaGateway = "london-hub"
            let own = try await trail.append(Patients.record(requestID: "own"))
            let stored = try await trail.append(federated)
            #expect(own.record.viaGateway == nil)
            #expect(try await trail.records(patient: Patients.number(1)) == [own, stored])
            #expect(try await trail.verify() == .intact(count: 2))
            try await store.execute("UPDATE audit_records SET via_gateway = NULL WHERE sequence = 2")
            guard case .broken(let sequence, _) = try await trail.verify() else {
                Issue.record("a removed gateway went unnoticed")
                return
            }
            #expect(sequence == 2)
        }
    }

    /// An investigation of one member of staff: their records and no one else's (a user id that only starts the
    /// same is another user), from a time, in chain order, a page at a time.
    static func oneUsersRecordsAreFoundFromATimeAPageAtATime(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { _, trail in
            let start = Date(timeIntervalSince1970: 1_795_000_000)
            var theirs: [StoredAuditRecord] = []
            for index in 0..<9 {
                var record = Patients.record(
                    patient: Patients.number(index), requestID: "r\(index)", time: start.addingTimeInterval(Double(index) * 60))
                record.userID = ["user-7001", "user-7002", "user-70011"][index % 3]
                let stored = try await trail.append(record)
                if index % 3 == 0 { theirs.append(stored) }
            }
            #expect(theirs.map(\.sequence) == [1, 4, 7])
            #expect(try await trail.records(.user("user-7001"), since: nil, until: nil, after: 0, limit: 100) == theirs)
            // From a time: the first of theirs at 0 min is before it.
            #expect(
                try await trail.records(.user("user-7001"), since: start.addingTimeInterval(60), until: nil, after: 0, limit: 100)
                    == Array(theirs.dropFirst()))
            // A page at a time: one, then the rest after it.
            let first = try await trail.records(.user("user-7001"), since: nil, until: nil, after: 0, limit: 1)
            #expect(first == [theirs[0]])
            #expect(try await trail.records(.user("user-7001"), since: nil, until: nil, after: first[0].sequence, limit: 100) == Array(theirs.dropFirst()))
            #expect(try await trail.records(.user("user-7003"), since: nil, until: nil, after: 0, limit: 100).isEmpty)
            // Up to a time, not including it: their first two (0 and 3 min), not the third (6 min).
            #expect(
                try await trail.records(.user("user-7001"), since: nil, until: start.addingTimeInterval(360), after: 0, limit: 100)
                    == Array(theirs.prefix(2)))
            // A patient's the same way: here each record is about another patient.
            let third = try await trail.records(.patient(Patients.number(3)), since: nil, until: nil, after: 0, limit: 100)
            #expect(third.map(\.sequence) == [4])
            #expect(try await trail.records(.patient(Patients.number(3)), since: start.addingTimeInterval(181), until: nil, after: 0, limit: 100).isEmpty)
        }
    }

    /// Per user: queries (a disclosure record is not another query, an opt-out change not a query at all), different
    /// patients, break-glass and refusals, in `since..<until` exactly — with records before and after the period on
    /// both sides of it in the chain, and one committed out of time order — most patients first.
    static func accessVolumeCountsEachUsersQueriesAndPatientsInThePeriod(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { _, trail in
            let since = Date(timeIntervalSince1970: 1_795_000_000)
            let until = since.addingTimeInterval(3600)
            func record(_ user: String, _ patient: Int, at seconds: Double, organisation: String = "Y90001") -> AuditRecord {
                var record = Patients.record(
                    patient: Patients.number(patient), requestID: "\(user)-\(patient)-\(seconds)",
                    time: since.addingTimeInterval(seconds))
                record.userID = user
                record.userName = "Name of \(user)"
                record.organisation = organisation
                return record
            }
            // Before the period: enough records that the bisection has work to do.
            for index in 0..<20 { _ = try await trail.append(record("user-a", 100 + index, at: -7200 + Double(index))) }
            _ = try await trail.append(record("user-a", 99, at: -0.001))
            _ = try await trail.append(record("user-a", 1, at: 0))
            _ = try await trail.append(record("user-a", 2, at: 60, organisation: "RAT"))
            var disclosed = record("user-a", 2, at: 61)
            disclosed.reason = AuditRecord.disclosedReason
            _ = try await trail.append(disclosed)
            var emergency = record("user-a", 2, at: 120)
            emergency.role = "R8001"
            emergency.purpose = "emergency"
            emergency.breakGlassReason = "collapsed in the waiting room"
            _ = try await trail.append(emergency)
            _ = try await trail.append(record("user-b", 1, at: 1800))
            // Committed after a later one, as a record waiting for the group commit can be.
            var refused = record("user-a", 3, at: 1700)
            refused.decision = .refused
            refused.reason = "no-legitimate-relationship"
            _ = try await trail.append(refused)
            _ = try await trail.append(
                AuditRecord.optOutChange(
                    adding: true, patient: Patients.number(4), userID: "operator-1", userName: "An Operator",
                    organisation: "Y90001", role: "R8000", requestID: "opt-out-1", route: "/admin/opt-outs/{nhs}",
                    time: since.addingTimeInterval(1900)))
            _ = try await trail.append(record("user-b", 5, at: 3600))
            for index in 0..<20 { _ = try await trail.append(record("user-b", 200 + index, at: 7200 + Double(index))) }

            let summaries = try await trail.accessVolume(since: since, until: until, limit: 10)
            #expect(summaries.map(\.userID) == ["user-a", "user-b"])
            let a = try #require(summaries.first)
            #expect(a.userName == "Name of user-a")
            #expect(a.organisations == ["RAT", "Y90001"])
            #expect(a.roles == ["R8000", "R8001"])
            #expect((a.queries, a.patients, a.emergency, a.refused) == (4, 3, 1, 1))
            #expect(a.first == since)
            #expect(a.last == since.addingTimeInterval(1700))
            let b = try #require(summaries.last)
            #expect((b.queries, b.patients, b.emergency, b.refused) == (1, 1, 0, 0))
            #expect(try await trail.accessVolume(since: since, until: until, limit: 1).map(\.userID) == ["user-a"])
            // Another period: only what is in it.
            let later = try await trail.accessVolume(since: until, until: until.addingTimeInterval(7200 + 60), limit: 10)
            #expect(later.map(\.userID) == ["user-b"])
            #expect(later.first?.queries == 21)
            #expect(try await trail.accessVolume(since: until, until: since, limit: 10).isEmpty)
        }
    }

    /// The break-glass review: only emergency records, from a time on, in chain order, a page at a time.
    static func breakGlassRecordsAreFoundByTimeAPageAtATime(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { _, trail in
            let start = Date(timeIntervalSince1970: 1_795_000_000)
            var emergencies: [StoredAuditRecord] = []
            for index in 0..<8 {
                var record = Patients.record(
                    patient: Patients.number(index), requestID: "r\(index)", time: start.addingTimeInterval(Double(index) * 60))
                if index.isMultiple(of: 2) {
                    record.purpose = "emergency"
                    record.breakGlassReason = "unconscious, no history (\(index))"
                }
                let stored = try await trail.append(record)
                if index.isMultiple(of: 2) { emergencies.append(stored) }
            }
            // Every emergency record, and only those.
            func page(since: Date, after: Int64 = 0, limit: Int = 100) async throws -> [StoredAuditRecord] {
                try await trail.breakGlassRecords(since: since, after: after, limit: limit, reviewed: nil).map(\.stored)
            }
            #expect(try await page(since: start) == emergencies)
            // From a time on: the first two emergencies (minutes 0 and 2) are before minute 3.
            #expect(try await page(since: start.addingTimeInterval(180)) == Array(emergencies.suffix(2)))
            // A page at a time, each starting after the last one's number.
            let first = try await page(since: start, limit: 3)
            #expect(first == Array(emergencies.prefix(3)))
            let second = try await page(since: start, after: first.last!.sequence, limit: 3)
            #expect(second == Array(emergencies.suffix(1)))
            #expect(try await page(since: start.addingTimeInterval(3600)).isEmpty)
        }
    }

    /// Reviews belong to a query (both records of an after-answer query show it), the latest is shown, all are kept
    /// in order, `reviewed` filters the list, the backlog counts queries not yet reviewed, and the table refuses to
    /// change or lose a review.
    static func breakGlassReviewsAreKeptPerQueryAndListedWithTheirRecords(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { store, trail in
            let start = Date(timeIntervalSince1970: 1_795_000_000)
            func emergency(_ requestID: String, reason: String = "allowed", minute: Double) -> AuditRecord {
                var record = Patients.record(requestID: requestID, reason: reason, time: start.addingTimeInterval(minute * 60))
                record.purpose = "emergency"
                record.breakGlassReason = "collapsed in the street, no history"
                return record
            }
            let access = try await trail.append(emergency("q1", minute: 0))
            let disclosed = try await trail.append(emergency("q1", reason: "disclosed", minute: 0))
            let other = try await trail.append(emergency("q2", minute: 1))
            _ = try await trail.append(Patients.record(requestID: "q3", time: start.addingTimeInterval(120)))
            #expect(try await trail.record(sequence: other.sequence) == other)
            #expect(try await trail.record(sequence: 999) == nil)
            #expect(try await trail.awaitingReview() == ReviewBacklog(queries: 2, oldest: start))

            let first = BreakGlassReview(
                requestID: "q1", sequence: access.sequence, time: start.addingTimeInterval(3600.0004), reviewerID: "ig-7",
                reviewerName: "Test Reviewer", outcome: .followUp, note: "asked the ED consultant")
            let second = BreakGlassReview(
                requestID: "q1", sequence: disclosed.sequence, time: start.addingTimeInterval(7200), reviewerID: "ig-8",
                reviewerName: "Test Caldicott Guardian", outcome: .appropriate, note: nil)
            try await trail.addReview(first)
            try await trail.addReview(second)
            #expect(try await trail.reviews(requestID: "q1") == [first, second])
            #expect(try await trail.reviews(requestID: "q2").isEmpty)
            #expect(try await trail.awaitingReview() == ReviewBacklog(queries: 1, oldest: start.addingTimeInterval(60)))

            let all = try await trail.breakGlassRecords(since: start, after: 0, limit: 100, reviewed: nil)
            #expect(all.map(\.stored) == [access, disclosed, other])
            #expect(all.map(\.review) == [second, second, nil])
            #expect(
                try await trail.breakGlassRecords(since: start, after: 0, limit: 100, reviewed: true).map(\.stored)
                    == [access, disclosed])
            #expect(
                try await trail.breakGlassRecords(since: start, after: 0, limit: 100, reviewed: false).map(\.stored)
                    == [other])

            await #expect(throws: (any Error).self) { try await store.execute("UPDATE audit_reviews SET outcome = 'appropriate'") }
            await #expect(throws: (any Error).self) { try await store.execute("DELETE FROM audit_reviews") }
            #expect(try await trail.reviews(requestID: "q1") == [first, second])
        }
    }

    /// A trail written before federation opens, gains the column, still verifies, and takes federated records.
    static func aTrailFromBeforeFederationGainsTheColumn(_ kind: AuditStoreKind) async throws {
        try await AuditTestEnvironment.withStore(kind) { store in
            let trail = try await store.openTrail()
            let before = try await trail.append(Patients.record(requestID: "before"))
            await trail.shutdown()
            try await store.execute("ALTER TABLE audit_records DROP COLUMN via_gateway")

            let reopened = try await store.openTrail()
            #expect(try await reopened.records(patient: Patients.number(1)) == [before])
            var federated = Patients.record(requestID: "after")
            federated.viaGateway = "london-hub"
            let after = try await reopened.append(federated)
            #expect(after.record.viaGateway == "london-hub")
            #expect(try await reopened.verify() == .intact(count: 2))
            await reopened.shutdown()
        }
    }

    static func persistsAcrossReopen(_ kind: AuditStoreKind) async throws {
        try await AuditTestEnvironment.withStore(kind) { store in
            let trail = try await store.openTrail()
            var stored: [StoredAuditRecord] = []
            for index in 1...3 { stored.append(try await trail.append(Patients.record(requestID: "before-\(index)"))) }
            await trail.shutdown()

            let reopened = try await store.openTrail()
            #expect(try await reopened.records(patient: Patients.number(1)) == stored)
            let next = try await reopened.append(Patients.record(requestID: "after"))
            #expect(next.sequence == 4)
            #expect(next.previousHash == stored[2].hash)
            #expect(try await reopened.verify() == .intact(count: 4))
            await reopened.shutdown()
        }
    }

    /// Keeps no clinical data: every value in every table is either metadata the test put in, a hash, or a number.
    static func storesOnlyTheMetadataGiven(_ kind: AuditStoreKind) async throws {
        try await withTrail(kind) { store, trail in
            var record = Patients.record(patient: Patients.number(5), requestID: "req-meta")
            record.breakGlassReason = "patient unconscious"
            let stored = try await trail.append(record)

            let metadata: Set<String> = [
                record.requestID, record.userID, record.userName, record.organisation, record.role, record.purpose,
                "patient unconscious", record.patient.digits, record.route, record.decision.rawValue, record.reason,
                "gp-practice", "ok", "ambulance", "timeout", "provider", "status", "medication", "problem",
            ]
            let values = try await store.dumpAllValues()
            #expect(values.contains(stored.hash))
            for value in values {
                #expect(isAllowed(value, metadata: metadata), "unexpected stored value: \(value)")
            }
        }
    }

    static func failsAfterShutdown(_ kind: AuditStoreKind) async throws {
        try await AuditTestEnvironment.withStore(kind) { store in
            let trail = try await store.openTrail()
            _ = try await trail.append(Patients.record())
            await trail.shutdown()
            let started = ContinuousClock.now
            await #expect(throws: AuditStoreError.closed) { try await trail.append(Patients.record()) }
            #expect(ContinuousClock.now - started < .seconds(1))
        }
    }

    private static func isAllowed(_ value: String, metadata: Set<String>) -> Bool {
        if value.isEmpty || metadata.contains(value) || Int64(value) != nil { return true }
        if value.count == 64, value.allSatisfy(\.isHexDigit) { return true }
        // Providers and category counts are stored as JSON: every key and leaf must be allowed too.
        guard let json = try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed]) else {
            return false
        }
        return jsonIsAllowed(json, metadata: metadata)
    }

    private static func jsonIsAllowed(_ json: Any, metadata: Set<String>) -> Bool {
        switch json {
        case let array as [Any]: array.allSatisfy { jsonIsAllowed($0, metadata: metadata) }
        case let object as [String: Any]:
            object.allSatisfy { metadata.contains($0.key) && jsonIsAllowed($0.value, metadata: metadata) }
        case let string as String: metadata.contains(string)
        case is NSNumber: true
        default: false
        }
    }
}
