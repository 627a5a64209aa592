import Synchronization

/// One provider's current fault, shared between the caller who changes it and the event loops that apply it.
/// Each request reads it once, when the request is complete, so a change takes effect from the next request.
final class ProviderFaultState: Sendable {
    /// What a request should suffer, with any random delay already drawn.
    enum Action: Equatable {
        case answer
        case delay(milliseconds: Int)
        case hang
        case httpError(status: Int)
        case reset
        /// Answer with the record's body rewritten (malformed, hostile or cut).
        case rewriteBody(HostileBody.Rewrite)
        case oversize(bytes: Int, chunked: Bool)
        /// Half the body after a head announcing all of it, then a reset.
        case cutOff
        case drip(intervalMilliseconds: Int)
        case wrongContentType
        case charset(SimulatedCharset)
    }

    private struct State {
        var fault: SimulatedFault = .none
        var delays: SplitMix64
        var lastDeadlineMilliseconds: Int?
        var lastRequestID: String?
    }

    private let state: Mutex<State>

    /// `seed` seeds the random-delay sequence, so the same seed gives the same delays request by request.
    init(seed: UInt64) {
        state = Mutex(State(delays: SplitMix64(seed: seed)))
    }

    var fault: SimulatedFault {
        get { state.withLock { $0.fault } }
        set { state.withLock { $0.fault = newValue } }
    }

    /// The `CareGate-Deadline-Ms` the last request carried, if any: what the gateway told the provider.
    var lastDeadlineMilliseconds: Int? {
        get { state.withLock { $0.lastDeadlineMilliseconds } }
        set { state.withLock { $0.lastDeadlineMilliseconds = newValue } }
    }

    /// The `CareGate-Request-Id` the last request carried, if any: the gateway's id for the query.
    var lastRequestID: String? {
        get { state.withLock { $0.lastRequestID } }
        set { state.withLock { $0.lastRequestID = newValue } }
    }

    func nextAction() -> Action {
        state.withLock { state in
            switch state.fault {
            case .none: .answer
            case .fixedDelay(let milliseconds): .delay(milliseconds: milliseconds)
            case .randomDelay(let low, let high): .delay(milliseconds: state.delays.int(in: low...max(low, high)))
            case .logNormalDelay(let median, let p99):
                .delay(milliseconds: state.delays.logNormal(median: Double(median), p99: Double(p99),
                                                           cap: SimulatedFault.maximumDelayMilliseconds))
            case .hang: .hang
            case .httpError(let status): .httpError(status: status)
            case .malformedXML: .rewriteBody(.malformed)
            case .connectionReset: .reset
            case .flaky(let percent): state.delays.int(in: 0...99) < percent ? .reset : .answer
            case .doctype: .rewriteBody(.doctype)
            case .externalEntity: .rewriteBody(.externalEntity)
            case .entityBomb: .rewriteBody(.entityBomb)
            case .deepNesting: .rewriteBody(.deepNesting)
            case .invalidUTF8: .rewriteBody(.invalidUTF8)
            case .truncated: .rewriteBody(.truncated)
            case .oversize(let bytes): .oversize(bytes: bytes, chunked: false)
            case .oversizeChunked(let bytes): .oversize(bytes: bytes, chunked: true)
            case .cutOff: .cutOff
            case .drip(let milliseconds): .drip(intervalMilliseconds: milliseconds)
            case .wrongContentType: .wrongContentType
            case .charset(let charset): .charset(charset)
            }
        }
    }
}
