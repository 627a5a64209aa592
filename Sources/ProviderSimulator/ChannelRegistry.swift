import NIOCore
import Synchronization

/// The connections a simulator has accepted, so shutdown can close them itself: a `hang` leaves a request open
/// for ever, and an event loop group lent by the caller is not shut down by the simulator, so nothing else would.
final class ChannelRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var closing = false
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes. Returns false (and the caller must close it) once shutdown has begun.
    func register(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            guard !state.closing else { return false }
            state.channels[key] = channel
            return true
        }
        if accepted {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.channels.removeValue(forKey: key) }
            }
        }
        return accepted
    }

    /// Stops accepting and hands back every open connection to close.
    func beginClosing() -> [any Channel] {
        state.withLock { state in
            state.closing = true
            return Array(state.channels.values)
        }
    }

    /// Accepts connections again (after a restart).
    func reopen() {
        state.withLock { $0.closing = false }
    }
}
