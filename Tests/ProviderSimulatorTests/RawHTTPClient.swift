import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A deliberately small HTTP/1.1 client over a POSIX socket, so the tests see exactly what a client sees — a reset,
/// a silence, a cut-off body — without a client library's retries or error mapping in between.
/// Blocking calls run on a Dispatch thread, off Swift's cooperative pool.
final class RawHTTPConnection: @unchecked Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Failure: Error, Equatable {
        case connectFailed(errno: Int32)
        case timedOut
        case connectionReset
        case closedBeforeResponse
        case malformedResponse
        case sendFailed(errno: Int32)
    }

    private let descriptor: Int32
    private var buffered: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; every read waits at most `timeout`.
    init(port: Int, timeout: Duration = .seconds(5)) throws {
        #if canImport(Darwin)
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #else
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard descriptor >= 0 else { throw Failure.connectFailed(errno: errno) }
        let (seconds, attoseconds) = timeout.components
        var interval = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw Failure.connectFailed(errno: code)
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure.sendFailed(errno: errno) }
            sent += count
        }
    }

    func get(_ target: String, extraHeaders: String = "") throws {
        try send("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/fhir+xml\r\n\(extraHeaders)\r\n")
    }

    /// Reads one response (headers, then a Content-Length body).
    func readResponse() throws -> Response {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while !buffered.containsSequence(separator) {
            try fill(orFailWith: .closedBeforeResponse)
        }
        let headerEnd = buffered.firstRange(of: separator)!
        let headerText = String(decoding: buffered[..<headerEnd.lowerBound], as: UTF8.self)
        buffered.removeSubrange(..<headerEnd.upperBound)
        var lines = headerText.components(separatedBy: "\r\n")
        let statusParts = lines.removeFirst().split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure.malformedResponse }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffered.count < length {
            try fill(orFailWith: .malformedResponse)
        }
        let body = Array(buffered[..<length])
        buffered.removeSubrange(..<length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Reads whatever arrives next (anything already buffered first): nil at a clean end of stream.
    func readChunk() throws -> [UInt8]? {
        if !buffered.isEmpty {
            defer { buffered = [] }
            return buffered
        }
        return try receive()
    }

    /// One read from the socket: nil at a clean end of stream.
    private func receive() throws -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 { return Array(chunk[..<count]) }
        if count == 0 { return nil }
        throw Self.failure(for: errno)
    }

    private func fill(orFailWith endOfStream: Failure) throws {
        guard let chunk = try receive() else { throw endOfStream }
        buffered += chunk
    }

    private static func failure(for code: Int32) -> Failure {
        switch code {
        case EAGAIN, EWOULDBLOCK: .timedOut
        case ECONNRESET: .connectionReset
        default: .closedBeforeResponse
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func containsSequence(_ needle: [UInt8]) -> Bool { firstRange(of: needle) != nil }
}

/// Runs blocking socket code on a Dispatch thread and awaits it.
func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// One GET on a fresh connection.
func fetch(port: Int, _ target: String, timeout: Duration = .seconds(5)) async throws -> RawHTTPConnection.Response {
    try await offloaded {
        let connection = try RawHTTPConnection(port: port, timeout: timeout)
        try connection.get(target, extraHeaders: "Connection: close\r\n")
        return try connection.readResponse()
    }
}
