import Hummingbird
import NIOCore

/// Every request's context: Hummingbird's core storage plus where the request came from.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address; nil when the request did not arrive over a socket (in-process tests).
    public let remoteAddress: SocketAddress?
    /// The operator's user id, on admin routes (set by `OperatorOnlyMiddleware`).
    public var operatorUserID: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
