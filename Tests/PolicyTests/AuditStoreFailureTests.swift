import Foundation
import Policy
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A store that is down makes the trail fail promptly with `AuditStoreError`, never hang: the gateway then
/// answers 503 (fail closed).
@Suite("Audit store failures")
struct AuditStoreFailureTests {
    @Test func sqliteFileThatCannotBeCreatedFails() async throws {
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-audit-\(UUID().uuidString)")
        try Data("not a directory".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker) }
        await #expect(throws: AuditStoreError.unavailable) {
            _ = try await makeAuditTrail(.sqlite(path: blocker.appendingPathComponent("audit.sqlite").path), logger: AuditTestEnvironment.logger)
        }
    }

    @Test func postgresServerNotListeningFailsPromptly() async throws {
        let (socket, port) = try Self.listeningSocket()
        close(socket)  // the port is now free: nothing answers there
        let started = ContinuousClock.now
        await #expect(throws: AuditStoreError.self) {
            _ = try await PostgresAuditTrail(url: "postgres://caregate@127.0.0.1:\(port)/postgres", timeout: .seconds(2))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    /// A server that accepts the connection and then never answers — the case a driver waits on forever.
    @Test func postgresServerThatNeverAnswersFailsWithinTheDeadline() async throws {
        let (socket, port) = try Self.listeningSocket()
        defer { close(socket) }
        let started = ContinuousClock.now
        await #expect(throws: AuditStoreError.deadlineExceeded) {
            _ = try await PostgresAuditTrail(url: "postgres://caregate@127.0.0.1:\(port)/postgres", timeout: .seconds(2))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func errorsCompareByKind() {
        #expect(AuditStoreError.closed == .closed)
        #expect(AuditStoreError.unavailable != .closed)
        #expect(AuditStoreError.closed.shortDescription == "closed")
    }

    /// A TCP socket on 127.0.0.1 that listens but never accepts; the kernel completes the handshake for it.
    private static func listeningSocket() throws -> (Int32, Int) {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw AuditTestSetupError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw AuditTestSetupError("bind/listen failed")
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw AuditTestSetupError("getsockname failed")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
