import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One provider served from a socket: how it answers, and the fault it currently suffers.
struct ProviderRoute: Sendable {
    let responder: ProviderResponder
    let faults: ProviderFaultState
}

/// Serves one connection to one simulated provider's socket, applying the provider's current fault to each request.
/// A socket can serve several providers (feeds of one system), told apart by path; a path none of them serves is
/// answered, and faulted, by the first.
///
/// Runs on the channel's event loop only; delayed answers are scheduled on the same loop, so the handler needs no
/// locking. HTTP/1.1 keep-alive and pipelining are handled by NIO's server pipeline in front of it.
final class ProviderRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// How much a `drip` sends each time, and how big the repeated block of an `oversize` padding is.
    static let dripBytes = 16
    static let paddingBlockBytes = 64 * 1024

    private let routes: [ProviderRoute]
    /// The `Authorization` header every request must carry, if any.
    private let requiredAuthorization: String?
    private let logger: Logger
    private var request: HTTPRequestHead?

    init(routes: [ProviderRoute], requiredAuthorization: String? = nil, logger: Logger) {
        precondition(!routes.isEmpty, "a socket serves at least one provider")
        self.routes = routes
        self.requiredAuthorization = requiredAuthorization
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            handle(head, context: context)
        }
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let route = routes.first { $0.responder.matches(uri: head.uri) } ?? routes[0]
        let responder = route.responder
        route.faults.lastDeadlineMilliseconds = head.headers.first(name: "CareGate-Deadline-Ms").flatMap { Int($0) }
        route.faults.lastRequestID = head.headers.first(name: "CareGate-Request-Id")
        if let requiredAuthorization, head.headers.first(name: "Authorization") != requiredAuthorization {
            send(responder.error(401, code: "login", "No valid bearer token"), for: head, context: context)
            return
        }
        let action = route.faults.nextAction()
        // The request target holds the NHS number: only at trace level.
        logger.trace("simulated request", metadata: ["provider": "\(responder.definition.id)", "uri": "\(head.uri)"])
        logger.debug(
            "simulated provider request",
            metadata: ["provider": "\(responder.definition.id)", "fault": "\(route.faults.fault)"])
        let answer = { responder.respond(method: head.method.rawValue, uri: head.uri) }
        switch action {
        case .answer:
            send(answer(), for: head, context: context)
        case .delay(let milliseconds):
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                guard context.channel.isActive else { return }
                self.send(answer(), for: head, context: context)
            }
        case .hang:
            break  // Keep the connection open and say nothing until the client or the simulator closes it.
        case .httpError(let status):
            send(responder.simulatedError(status: status), for: head, context: context)
        case .reset:
            reset(context: context)
        case .rewriteBody(let rewrite):
            var response = answer()
            if response.isRecord { response.body = HostileBody.rewrite(response.body, rewrite) }
            send(response, for: head, context: context)
        case .wrongContentType:
            var response = answer()
            if response.isRecord { response.contentType = "text/html; charset=utf-8" }
            send(response, for: head, context: context)
        case .charset(let charset):
            var response = answer()
            if response.isRecord {
                response.body = charset.transcode(response.body)
                let type = response.contentType.split(separator: ";").first.map(String.init) ?? response.contentType
                response.contentType = "\(type); charset=\(charset.rawValue)"
            }
            send(response, for: head, context: context)
        case .oversize(let bytes, let chunked):
            let response = answer()
            if response.isRecord, let padded = HostileBody.padding(response.body, to: bytes) {
                sendPadded(response, padded, chunked: chunked, for: head, context: context)
            } else {
                send(response, for: head, context: context)
            }
        case .cutOff:
            let response = answer()
            guard response.isRecord else {
                send(response, for: head, context: context)
                return
            }
            context.write(wrapOutboundOut(.head(responseHead(response, for: head, length: response.body.count))), promise: nil)
            let half = context.channel.allocator.buffer(bytes: response.body.prefix(response.body.count / 2))
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(half)))).assumeIsolated().whenComplete { _ in
                self.reset(context: context)
            }
        case .drip(let milliseconds):
            let response = answer()
            if response.isRecord {
                startDrip(response, every: milliseconds, for: head, context: context)
            } else {
                send(response, for: head, context: context)
            }
        }
    }

    private func responseHead(
        _ response: ProviderResponder.Response, for head: HTTPRequestHead, length: Int?
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        if let length {
            headers.add(name: "Content-Length", value: String(length))
            if head.version.major == 1 && head.version.minor == 0 && head.isKeepAlive {
                headers.add(name: "Connection", value: "keep-alive")
            } else if !head.isKeepAlive {
                headers.add(name: "Connection", value: "close")
            }
        } else if head.version.major == 1 && head.version.minor >= 1 {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        return HTTPResponseHead(
            version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
    }

    private func send(_ response: ProviderResponder.Response, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(responseHead(response, for: head, length: response.body.count))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        finish(for: head, context: context)
    }

    private func finish(for head: HTTPRequestHead, context: ChannelHandlerContext) {
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Sends `head + padding + tail` with one Content-Length, the padding as one block of spaces written again and
    /// again, so a body of any size costs one block of memory.
    private func sendPadded(
        _ response: ProviderResponder.Response, _ padded: (head: [UInt8], padding: Int, tail: [UInt8]), chunked: Bool,
        for head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        let length = padded.head.count + padded.padding + padded.tail.count
        let allocator = context.channel.allocator
        context.write(
            wrapOutboundOut(.head(responseHead(response, for: head, length: chunked ? nil : length))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(allocator.buffer(bytes: padded.head)))), promise: nil)
        let block = allocator.buffer(repeating: UInt8(ascii: " "), count: Self.paddingBlockBytes)
        var remaining = padded.padding
        while remaining > 0 {
            let count = min(remaining, Self.paddingBlockBytes)
            let part = count == Self.paddingBlockBytes ? block : block.getSlice(at: 0, length: count)!
            context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
            remaining -= count
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(allocator.buffer(bytes: padded.tail)))), promise: nil)
        finish(for: head, context: context)
    }

    /// Sends the head at once, then `dripBytes` of the body every interval (chunked, with no length), and once the
    /// body is out a line feed each time: the response never ends. Each step first checks the connection is still
    /// open, so the drip stops when the client goes or the simulator closes the connection at shutdown.
    private func startDrip(
        _ response: ProviderResponder.Response, every milliseconds: Int, for head: HTTPRequestHead,
        context: ChannelHandlerContext
    ) {
        context.writeAndFlush(wrapOutboundOut(.head(responseHead(response, for: head, length: nil))), promise: nil)
        drip(response.body, from: 0, every: milliseconds, context: context)
    }

    private func drip(_ body: [UInt8], from offset: Int, every milliseconds: Int, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let end = min(offset + Self.dripBytes, body.count)
        let chunk = offset < body.count ? Array(body[offset..<end]) : [UInt8(ascii: "\n")]
        context.writeAndFlush(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: chunk)))), promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(milliseconds))) {
            self.drip(body, from: end, every: milliseconds, context: context)
        }
    }

    /// Closes with SO_LINGER {on, 0}: the kernel discards unsent data and sends RST instead of FIN, so the client
    /// sees "connection reset by peer" rather than a clean end of stream.
    private func reset(context: ChannelHandlerContext) {
        guard let options = context.channel as? SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug(
            "simulated provider connection error",
            metadata: ["provider": "\(routes[0].responder.definition.id)", "error": "\(error)"])
        context.close(promise: nil)
    }
}
