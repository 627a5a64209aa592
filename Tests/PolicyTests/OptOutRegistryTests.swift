import CareGateTesting
import CareRecords
import Foundation
import Policy
import Testing

/// The behaviour every opt-out store must have, run against each configured store.
@Suite("Opt-out registry behaviour")
struct OptOutRegistryTests {
    @Test("add, check and remove one patient", arguments: OptOutStoreKind.configured)
    func addCheckRemove(store: OptOutStoreKind) async throws {
        let numbers = syntheticNHSNumbers(2)
        let (patient, other) = (numbers[0], numbers[1])
        try await store.withScratchLocation { location async throws in
            try await withOptOutRegistry(location) { registry async throws in
                #expect(try await registry.isOptedOut(patient) == false)
                #expect(try await registry.add(patient, source: "test") == true)
                #expect(try await registry.isOptedOut(patient) == true)
                #expect(try await registry.isOptedOut(other) == false)
                #expect(try await registry.remove(patient) == true)
                #expect(try await registry.isOptedOut(patient) == false)
                #expect(try await registry.remove(patient) == false)
                #expect(try await registry.list().isEmpty)
            }
        }
    }

    @Test("adding twice keeps the first record", arguments: OptOutStoreKind.configured)
    func addIsIdempotent(store: OptOutStoreKind) async throws {
        let patient = syntheticNHSNumbers(1)[0]
        try await store.withScratchLocation { location async throws in
            try await withOptOutRegistry(location) { registry async throws in
                let before = Date()
                #expect(try await registry.add(patient, source: "admin-api") == true)
                let after = Date()
                #expect(try await registry.add(patient, source: "cli") == false)
                let list = try await registry.list()
                try #require(list.count == 1)
                #expect(list[0].nhsNumber == patient)
                #expect(list[0].source == "admin-api")
                #expect(list[0].recordedAt >= before.addingTimeInterval(-0.001))
                #expect(list[0].recordedAt <= after.addingTimeInterval(0.001))
            }
        }
    }

    @Test("many patients, listed by NHS number", arguments: OptOutStoreKind.configured)
    func manyPatients(store: OptOutStoreKind) async throws {
        let patients = syntheticNHSNumbers(300)
        let notOptedOut = syntheticNHSNumbers(20, from: 1_000)
        try await store.withScratchLocation { location async throws in
            try await withOptOutRegistry(location) { registry async throws in
                for patient in patients.reversed() {
                    try await registry.add(patient, source: "import:test.csv")
                }
                #expect(try await registry.list().map(\.nhsNumber) == patients)
                for patient in patients.prefix(20) {
                    #expect(try await registry.isOptedOut(patient))
                }
                for patient in notOptedOut {
                    #expect(try await registry.isOptedOut(patient) == false)
                }
            }
        }
    }

    @Test("concurrent adds: each patient recorded once", arguments: OptOutStoreKind.configured)
    func concurrentAdds(store: OptOutStoreKind) async throws {
        let patients = syntheticNHSNumbers(100)
        try await store.withScratchLocation { location async throws in
            try await withOptOutRegistry(location) { registry async throws in
                // Every patient is added by two tasks at once: exactly one of them must see `true`.
                let firstAdds = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for patient in patients + patients {
                        group.addTask { try await registry.add(patient, source: "test") }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(firstAdds == patients.count)
                #expect(try await registry.list().map(\.nhsNumber) == patients)
            }
        }
    }

    @Test("opt-outs survive reopening the store", arguments: OptOutStoreKind.configured)
    func persistence(store: OptOutStoreKind) async throws {
        let patients = syntheticNHSNumbers(5)
        try await store.withScratchLocation { location async throws in
            let written = try await withOptOutRegistry(location) { registry async throws in
                for patient in patients { try await registry.add(patient, source: "test") }
                try await registry.remove(patients[0])
                return try await registry.list()
            }
            try await withOptOutRegistry(location) { registry async throws in
                let reread = try await registry.list()
                #expect(reread.map(\.nhsNumber) == Array(patients.dropFirst()))
                #expect(reread.map(\.source) == written.map(\.source))
                for (old, new) in zip(written, reread) {
                    #expect(abs(old.recordedAt.timeIntervalSince(new.recordedAt)) < 0.001)
                }
                #expect(try await registry.isOptedOut(patients[0]) == false)
                #expect(try await registry.isOptedOut(patients[1]))
            }
        }
    }

    @Test("a shut-down registry refuses instead of answering", arguments: OptOutStoreKind.configured)
    func afterShutdown(store: OptOutStoreKind) async throws {
        let patient = syntheticNHSNumbers(1)[0]
        try await store.withScratchLocation { location async throws in
            let registry = try await makeOptOutRegistry(location, logger: .init(label: "test.opt-out"))
            await registry.shutdown()
            await #expect(throws: OptOutStoreError.self) { try await registry.isOptedOut(patient) }
        }
    }
}
