import Hummingbird
import NIOCore

/// Every request's context: Hummingbird's core storage plus where the request came from.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address; nil when the request did not arrive over a socket (in-process tests).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// True when the request came from this machine (127.0.0.0/8 or ::1).
    var isFromLoopback: Bool {
        switch remoteAddress {
        case .v4(let address)?:
            return address.address.sin_addr.s_addr.bigEndian >> 24 == 127
        case .v6?:
            return remoteAddress?.ipAddress == "::1"
        default:
            return false
        }
    }
}
