import CareGateTesting
import CareRecords
import Logging
import Policy
import Synchronization
import Testing

/// Logs must hold no patient identifiers above debug; the registry logs nothing above debug at all.
@Suite("Opt-out registry logging")
struct OptOutLoggingTests {
    @Test("nothing above debug, and no NHS number in any message", arguments: OptOutStoreKind.configured)
    func quietLogs(store: OptOutStoreKind) async throws {
        let patient = syntheticNHSNumbers(1)[0]
        let captured = CapturedLog()
        var logger = Logger(label: "test.opt-out") { _ in captured }
        logger.logLevel = .trace
        try await store.withScratchLocation { location async throws in
            try await withOptOutRegistry(location, logger: logger) { registry async throws in
                try await registry.add(patient, source: "test")
                _ = try await registry.isOptedOut(patient)
                _ = try await registry.list()
                try await registry.remove(patient)
            }
        }
        _ = try? await makeOptOutRegistry(.postgres(url: "postgres://caregate@127.0.0.1:1/postgres"), logger: logger)

        for entry in captured.entries {
            #expect(entry.level <= .debug, "\(entry.level): \(entry.message)")
            #expect(!entry.message.contains(patient.digits))
        }
    }
}
