import Testing

@testable import Policy

/// The bisection that finds the part of the chain a period covers: the first record at or after a time, whatever
/// the chain's length, with equal times and a time before or after every record.
@Suite struct AccessVolumeQueryTests {
    static func first(_ times: [Int64], atOrAfter time: Int64) async throws -> Int64 {
        try await AccessVolumeQuery.firstSequence(atOrAfter: time, head: Int64(times.count)) {
            (sequence: Int64) async throws(AuditStoreError) -> Int64 in times[Int(sequence) - 1]
        }
    }

    @Test func findsTheFirstRecordAtOrAfterATime() async throws {
        let times: [Int64] = [10, 20, 20, 20, 30, 40, 50, 50, 60]
        for target in Int64(0)...70 {
            // Sequences are numbered from 1; head + 1 when every record is earlier.
            let expected = Int64((times.firstIndex { $0 >= target } ?? times.count) + 1)
            #expect(try await Self.first(times, atOrAfter: target) == expected, "\(target)")
        }
        #expect(try await Self.first([], atOrAfter: 5) == 1)
    }

    @Test func thePeriodIsWidenedBySlackOnBothSides() async throws {
        let minute: Int64 = 60_000
        // One record a minute, from minute 0 to minute 59.
        let times = (0..<60).map { Int64($0) * minute }
        let range = try await AccessVolumeQuery.sequences(since: 20 * minute, until: 30 * minute, head: 60) {
            (sequence: Int64) async throws(AuditStoreError) -> Int64 in times[Int(sequence) - 1]
        }
        let slack = AccessVolumeQuery.slackMilliseconds / minute
        #expect(range == (21 - slack)..<(31 + slack))
    }
}
