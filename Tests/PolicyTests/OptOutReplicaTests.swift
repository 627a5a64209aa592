import CareGateTesting
import CareRecords
import Foundation
import Policy
import Testing

/// Several gateway replicas sharing one PostgreSQL database must agree at once.
@Suite(
    "Opt-out registry: PostgreSQL replicas",
    // Without a server these tests cannot run; `source .ci/postgres.sh` starts a throwaway one and sets the URL.
    .enabled(if: TestPostgres.isConfigured, "CAREGATE_TEST_POSTGRES_URL is unset: PostgreSQL opt-out tests skipped")
)
struct OptOutReplicaTests {
    @Test("the behaviour suite covers PostgreSQL")
    func behaviourSuiteCoversPostgres() {
        #expect(OptOutStoreKind.configured.contains(.postgres))
    }

    @Test("an opt-out added through one replica holds on another within one second")
    func replicasAgree() async throws {
        let numbers = syntheticNHSNumbers(2)
        let (patient, other) = (numbers[0], numbers[1])
        try await TestPostgres.withScratchSchema { url async throws in
            try await withOptOutRegistry(.postgres(url: url)) { first async throws in
                try await withOptOutRegistry(.postgres(url: url)) { second async throws in
                    #expect(try await second.isOptedOut(patient) == false)

                    try await first.add(patient, source: "admin-api")
                    let clock = ContinuousClock()
                    let added = clock.now
                    while try await !second.isOptedOut(patient) {
                        try #require(clock.now - added < .seconds(1), "the other replica did not see the opt-out within 1 s")
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    #expect(try await second.isOptedOut(other) == false)
                    #expect(try await second.add(patient, source: "cli") == false)

                    try await second.remove(patient)
                    #expect(try await first.isOptedOut(patient) == false)
                }
            }
        }
    }
}
