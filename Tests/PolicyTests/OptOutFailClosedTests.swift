import CareRecords
import Foundation
import NIOPosix
import Policy
import Testing

/// A store that is down must fail promptly with OptOutStoreError, so the gateway refuses (503) instead of hanging.
@Suite("Opt-out registry: a stopped store fails closed, promptly")
struct OptOutFailClosedTests {
    /// Generous against a 2 s store deadline; a hang would take far longer.
    static let prompt: Duration = .seconds(4)

    @Test("SQLite in a missing directory")
    func sqliteMissingDirectory() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("caregate-missing-\(UUID().uuidString)/opt-outs.sqlite").path
        try await expectPromptFailure { try await makeOptOutRegistry(.sqlite(path: path), logger: .init(label: "test")) }
    }

    @Test("SQLite file that is not a database")
    func sqliteNotADatabase() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-garbage-\(UUID().uuidString).sqlite").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await expectPromptFailure { try await makeOptOutRegistry(.sqlite(path: path), logger: .init(label: "test")) }
    }

    @Test("an SQLite read that cannot run is cut off at the deadline, and the registry works again after")
    func sqliteStuckReadIsCutOff() async throws {
        // SQLite's only thread is busy for 1.5 s, so the read cannot start: the registry must give up at its
        // 300 ms deadline rather than wait, and answer normally once the thread is free again.
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-stuck-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let registry = try await SQLiteOptOutRegistry(
            path: path, timeout: .milliseconds(300), threadPool: threads, logger: .init(label: "test"))
        let patient = try NHSNumber("9990000018")
        try await registry.add(patient, source: "test")
        threads.submit { _ in Thread.sleep(forTimeInterval: 1.5) }
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: OptOutStoreError.timedOut) { try await registry.isOptedOut(patient) }
        #expect(clock.now - start < .seconds(1))
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await registry.isOptedOut(patient))
        await registry.shutdown()
        try await threads.shutdownGracefully()
    }

    @Test("PostgreSQL on a closed port")
    func postgresClosedPort() async throws {
        try await expectPromptFailure {
            try await makeOptOutRegistry(.postgres(url: "postgres://caregate@127.0.0.1:1/postgres"), logger: .init(label: "test"))
        }
    }

    @Test("PostgreSQL that never answers is cut off at the deadline")
    func postgresBlackHole() async throws {
        // A listening socket that is never accepted from: the connection opens but PostgreSQL never speaks.
        let listener = try BlackHoleListener()
        defer { listener.close() }
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: OptOutStoreError.self) {
            try await makeOptOutRegistry(
                .postgres(url: "postgres://caregate@127.0.0.1:\(listener.port)/postgres?sslmode=disable"),
                timeout: .milliseconds(500), logger: .init(label: "test"))
        }
        #expect(clock.now - start < .seconds(2))
    }

    @Test("an invalid PostgreSQL URL is refused")
    func postgresInvalidURL() async throws {
        await #expect(throws: OptOutStoreError.invalidLocation) {
            try await makeOptOutRegistry(.postgres(url: "postgres://127.0.0.1:5432/db"), logger: .init(label: "test"))
        }
    }

    @Test("the error never carries the patient or the password")
    func errorDescriptionIsSafe() async throws {
        do {
            _ = try await makeOptOutRegistry(.postgres(url: "postgres://caregate:s3cret@127.0.0.1:1/postgres"), logger: .init(label: "test"))
            Issue.record("expected the registry to fail")
        } catch {
            #expect(!String(describing: error).contains("s3cret"))
            #expect(String(describing: error).hasPrefix("opt-out"))
        }
    }

    private func expectPromptFailure(_ body: @escaping @Sendable () async throws -> any OptOutRegistry) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let registry = try await body()
            await registry.shutdown()
            Issue.record("expected OptOutStoreError")
        } catch {
            #expect(error is OptOutStoreError)
        }
        #expect(clock.now - start < Self.prompt)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP socket on 127.0.0.1 that listens but never accepts or answers.
final class BlackHoleListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }
}
