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

/// Serves one connection to one simulated provider, applying the provider's current fault to each request.
///
/// Runs on the channel's event loop only; delayed answers are scheduled on the same loop, so the handler needs no
/// locking. HTTP/1.1 keep-alive and pipelining are handled by NIO's server pipeline in front of it.
final class ProviderRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: ProviderResponder
    private let faults: ProviderFaultState
    private let logger: Logger
    private var request: HTTPRequestHead?

    init(responder: ProviderResponder, faults: ProviderFaultState, logger: Logger) {
        self.responder = responder
        self.faults = faults
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
        let action = faults.nextAction()
        // The request target holds the NHS number: only at trace level.
        logger.trace("simulated request", metadata: ["provider": "\(responder.definition.id)", "uri": "\(head.uri)"])
        logger.debug(
            "simulated provider request",
            metadata: ["provider": "\(responder.definition.id)", "fault": "\(faults.fault)"])
        switch action {
        case .answer:
            send(responder.respond(method: head.method.rawValue, uri: head.uri), for: head, context: context)
        case .delay(let milliseconds):
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                guard context.channel.isActive else { return }
                self.send(self.responder.respond(method: head.method.rawValue, uri: head.uri), for: head, context: context)
            }
        case .hang:
            break  // Keep the connection open and say nothing until the client or the simulator closes it.
        case .httpError(let status):
            send(responder.simulatedError(status: status), for: head, context: context)
        case .malformed:
            var response = responder.respond(method: head.method.rawValue, uri: head.uri)
            if response.isBundle { response.body = ProviderResponder.truncated(response.body) }
            send(response, for: head, context: context)
        case .reset:
            reset(context: context)
        }
    }

    private func send(_ response: ProviderResponder.Response, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        let keepAlive = head.isKeepAlive
        if head.version.major == 1 && head.version.minor == 0 && keepAlive {
            headers.add(name: "Connection", value: "keep-alive")
        } else if !keepAlive {
            headers.add(name: "Connection", value: "close")
        }
        let responseHead = HTTPResponseHead(
            version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
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
            metadata: ["provider": "\(responder.definition.id)", "error": "\(error)"])
        context.close(promise: nil)
    }
}
