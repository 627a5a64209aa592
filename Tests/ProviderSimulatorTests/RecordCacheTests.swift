import CareRecords
@testable import ProviderSimulator
import Synchronization
import Testing

/// The simulator writes a patient's record once and serves the same bytes after, up to a bound on what it keeps.
@Suite struct RecordCacheTests {
    static let first = try! NHSNumber("9990000018")
    static let second = try! NHSNumber("9990000026")

    @Test func aRecordIsWrittenOnceAndServedAgain() {
        let cache = RecordCache()
        let writes = Atomic(0)
        func body(_ patient: NHSNumber) -> [UInt8]? {
            cache.body(for: patient) {
                writes.add(1, ordering: .relaxed)
                return Array(patient.digits.utf8)
            }
        }
        #expect(body(Self.first) == Array("9990000018".utf8))
        #expect(body(Self.first) == Array("9990000018".utf8))
        #expect(body(Self.second) == Array("9990000026".utf8))
        #expect(writes.load(ordering: .relaxed) == 2)
    }

    @Test func pastItsBoundItWritesAfreshInsteadOfKeeping() {
        let cache = RecordCache(maximumBytes: 15)
        let writes = Atomic(0)
        func body(_ patient: NHSNumber) -> [UInt8]? {
            cache.body(for: patient) {
                writes.add(1, ordering: .relaxed)
                return Array(patient.digits.utf8)
            }
        }
        for _ in 0..<3 {
            #expect(body(Self.first)?.count == 10)
            #expect(body(Self.second)?.count == 10)
        }
        // The first (10 bytes) is kept; the second would pass 15 bytes, so it is written each time.
        #expect(writes.load(ordering: .relaxed) == 4)
    }
}
