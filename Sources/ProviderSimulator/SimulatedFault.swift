/// A fault a simulated provider injects into its answers, changeable while it runs, so gateway behaviour under
/// slow, broken, silent and hostile providers can be shown and tested.
///
/// The text form (`description`, `init(parsing:)`) is what the CLI accepts: `none`, `delay:200`, `delay:50-300`,
/// `lognormal:40-300`, `hang`, `http-500` (any status 400–599), `malformed`, `reset`, and the hostile bodies `doctype`, `xxe`,
/// `entity-bomb`, `deep`, `oversize:BYTES`, `oversize-chunked:BYTES`, `drip:MS`, `bad-utf8`, `wrong-type`, `truncated`,
/// `cut-off`; and `charset:NAME`, not a fault but an encoding told only in HTTP (see `SimulatedCharset`).
///
/// The body faults change only a patient's record (a 200 answer); error answers go out as they are.
public enum SimulatedFault: Sendable, Equatable, CustomStringConvertible, LosslessStringConvertible {
    /// Answer normally.
    case none
    /// Answer after a fixed delay.
    case fixedDelay(milliseconds: Int)
    /// Answer after a delay drawn uniformly from the range, from a generator seeded per provider, so a run with the
    /// same seed sees the same sequence of delays.
    case randomDelay(minMilliseconds: Int, maxMilliseconds: Int)
    /// Answer after a delay drawn from a log-normal distribution with this median and 99th percentile (seeded per
    /// provider, like `randomDelay`): the long right tail of real systems, where most answers are quick and a few
    /// are very slow.
    case logNormalDelay(medianMilliseconds: Int, p99Milliseconds: Int)
    /// Never answer: keep the connection open until the client closes it or the simulator stops.
    case hang
    /// Answer with this HTTP status and a short error body (a FHIR OperationOutcome from a FHIR provider).
    case httpError(status: Int)
    /// Answer 200 with a truncated, not well-formed body with junk after the cut.
    case malformedXML
    /// Close the connection abruptly (SO_LINGER 0, so the client sees a TCP reset) without answering.
    case connectionReset
    /// Resets the connection on this percentage of requests (drawn from the seeded sequence), answers the rest.
    case flaky(percent: Int)
    /// The normal body with a harmless internal DOCTYPE (`<!DOCTYPE Root [<!ELEMENT Root ANY>]>`) after the XML
    /// declaration: a reader that refuses DTDs must refuse it.
    case doctype
    /// A DOCTYPE declaring an external entity, `<!ENTITY xxe SYSTEM "file:///etc/passwd">`, referenced as `&xxe;`
    /// in the first text of the body (or just inside the root when it has no text, as FHIR has none).
    case externalEntity
    /// "Billion laughs": ten nested internal entities, each ten of the one before, referenced in the body; expanded,
    /// it would be 3 × 10⁹ bytes.
    case entityBomb
    /// The normal body with 10,000 nested elements just inside the root.
    case deepNesting
    /// The normal body padded to `bytes` with an XML comment before the root's end tag: still well-formed, with a
    /// correct Content-Length. A body already that large goes out unpadded. Sent in chunks, never held whole.
    case oversize(bytes: Int)
    /// As `oversize`, but sent chunked with no Content-Length: only counting the bytes as they come shows the size.
    case oversizeChunked(bytes: Int)
    /// Send the head, then the body a few bytes at a time every `intervalMilliseconds`, chunked, and after the body
    /// whitespace, never ending, until the client closes the connection or the simulator stops.
    case drip(intervalMilliseconds: Int)
    /// The normal body with bytes that are not UTF-8 (`FF FE C3 28`) inside its first text (or attribute value).
    case invalidUTF8
    /// The correct body, labelled `text/html`.
    case wrongContentType
    /// A 200 whose body stops in the middle of an element's start tag, with a Content-Length that matches the cut
    /// body, so nothing but the XML itself says it is incomplete.
    case truncated
    /// The head with the body's full Content-Length and the first half of the body, then a TCP reset: the answer
    /// breaks off after it has begun, which a client must not take for a failure to connect (nor retry).
    case cutOff
    /// The correct record in another character encoding, stated only in the `Content-Type` (see `SimulatedCharset`).
    case charset(SimulatedCharset)

    /// The longest delay accepted from text: ten minutes.
    public static let maximumDelayMilliseconds = 600_000
    /// The largest `oversize` accepted from text: 1 GiB.
    public static let maximumOversizeBytes = 1 << 30

    public var description: String {
        switch self {
        case .none: "none"
        case .fixedDelay(let milliseconds): "delay:\(milliseconds)"
        case .randomDelay(let low, let high): "delay:\(low)-\(high)"
        case .logNormalDelay(let median, let p99): "lognormal:\(median)-\(p99)"
        case .hang: "hang"
        case .httpError(let status): "http-\(status)"
        case .malformedXML: "malformed"
        case .connectionReset: "reset"
        case .flaky(let percent): "flaky:\(percent)"
        case .doctype: "doctype"
        case .externalEntity: "xxe"
        case .entityBomb: "entity-bomb"
        case .deepNesting: "deep"
        case .oversize(let bytes): "oversize:\(bytes)"
        case .oversizeChunked(let bytes): "oversize-chunked:\(bytes)"
        case .drip(let milliseconds): "drip:\(milliseconds)"
        case .invalidUTF8: "bad-utf8"
        case .wrongContentType: "wrong-type"
        case .truncated: "truncated"
        case .cutOff: "cut-off"
        case .charset(let charset): "charset:\(charset.rawValue)"
        }
    }

    public init?(_ description: String) {
        guard let fault = try? SimulatedFault(parsing: description) else { return nil }
        self = fault
    }

    /// Parses the text form; the error names the text and says what is accepted.
    public init(parsing text: String) throws(SimulatedFaultParseError) {
        var view = Substring(text)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        let trimmed = view.lowercased()
        switch trimmed {
        case "none": self = .none
        case "hang": self = .hang
        case "malformed": self = .malformedXML
        case "reset": self = .connectionReset
        case "doctype": self = .doctype
        case "xxe": self = .externalEntity
        case "entity-bomb": self = .entityBomb
        case "deep": self = .deepNesting
        case "bad-utf8": self = .invalidUTF8
        case "wrong-type": self = .wrongContentType
        case "truncated": self = .truncated
        case "cut-off": self = .cutOff
        default:
            if trimmed.hasPrefix("delay:") {
                let spec = trimmed.dropFirst("delay:".count)
                let bounds = spec.split(separator: "-", omittingEmptySubsequences: false)
                let numbers = bounds.map { Int($0) }
                guard (1...2).contains(numbers.count), numbers.allSatisfy({ $0 != nil }) else {
                    throw SimulatedFaultParseError(
                        text: text, reason: "a delay is whole milliseconds, `delay:MS` or `delay:MIN-MAX`")
                }
                let values = numbers.map { $0! }
                guard values.allSatisfy({ (0...Self.maximumDelayMilliseconds).contains($0) }) else {
                    throw SimulatedFaultParseError(
                        text: text, reason: "a delay must be 0–\(Self.maximumDelayMilliseconds) milliseconds")
                }
                if values.count == 1 {
                    self = .fixedDelay(milliseconds: values[0])
                } else {
                    guard values[0] <= values[1] else {
                        throw SimulatedFaultParseError(text: text, reason: "a delay range's minimum exceeds its maximum")
                    }
                    self = .randomDelay(minMilliseconds: values[0], maxMilliseconds: values[1])
                }
            } else if trimmed.hasPrefix("lognormal:") {
                let numbers = trimmed.dropFirst("lognormal:".count).split(separator: "-", omittingEmptySubsequences: false)
                    .map { Int($0) }
                guard numbers.count == 2, let median = numbers[0], let p99 = numbers[1],
                    (1...Self.maximumDelayMilliseconds).contains(median), (median...Self.maximumDelayMilliseconds).contains(p99)
                else {
                    throw SimulatedFaultParseError(
                        text: text,
                        reason: "`lognormal:MEDIAN-P99` needs whole milliseconds, 1 ≤ median ≤ p99 ≤ \(Self.maximumDelayMilliseconds)")
                }
                self = .logNormalDelay(medianMilliseconds: median, p99Milliseconds: p99)
            } else if trimmed.hasPrefix("flaky:") {
                guard let percent = Int(trimmed.dropFirst("flaky:".count)), (0...100).contains(percent) else {
                    throw SimulatedFaultParseError(text: text, reason: "`flaky:PERCENT` needs a percentage of 0–100")
                }
                self = .flaky(percent: percent)
            } else if let prefix = ["oversize:", "oversize-chunked:"].first(where: { trimmed.hasPrefix($0) }) {
                guard let bytes = Int(trimmed.dropFirst(prefix.count)), (1...Self.maximumOversizeBytes).contains(bytes)
                else {
                    throw SimulatedFaultParseError(
                        text: text, reason: "`\(prefix)BYTES` needs a size of 1–\(Self.maximumOversizeBytes) bytes")
                }
                self = prefix == "oversize:" ? .oversize(bytes: bytes) : .oversizeChunked(bytes: bytes)
            } else if trimmed.hasPrefix("drip:") {
                guard let milliseconds = Int(trimmed.dropFirst("drip:".count)),
                    (1...Self.maximumDelayMilliseconds).contains(milliseconds)
                else {
                    throw SimulatedFaultParseError(
                        text: text, reason: "`drip:MS` needs an interval of 1–\(Self.maximumDelayMilliseconds) milliseconds")
                }
                self = .drip(intervalMilliseconds: milliseconds)
            } else if trimmed.hasPrefix("charset:") {
                guard let charset = SimulatedCharset(rawValue: String(trimmed.dropFirst("charset:".count))) else {
                    let names = SimulatedCharset.allCases.map(\.rawValue).joined(separator: ", ")
                    throw SimulatedFaultParseError(text: text, reason: "`charset:NAME` takes one of \(names)")
                }
                self = .charset(charset)
            } else if trimmed.hasPrefix("http-") {
                guard let status = Int(trimmed.dropFirst("http-".count)), (400...599).contains(status) else {
                    throw SimulatedFaultParseError(text: text, reason: "`http-STATUS` needs an error status 400–599")
                }
                self = .httpError(status: status)
            } else {
                throw SimulatedFaultParseError(text: text, reason: nil)
            }
        }
    }
}

/// Why a fault's text was not understood. The description repeats the text (it is configuration, not patient data).
public struct SimulatedFaultParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text as given.
    public var text: String
    /// What was wrong, when the text started like a known fault.
    public var reason: String?

    public static let acceptedForms =
        "none, delay:MS, delay:MIN-MAX, hang, http-STATUS (400–599), malformed, reset, flaky:PERCENT, doctype, xxe, entity-bomb, deep, "
        + "oversize:BYTES, oversize-chunked:BYTES, drip:MS, bad-utf8, wrong-type, truncated, cut-off, charset:NAME"

    public var description: String {
        if let reason {
            return "invalid fault '\(text)': \(reason)"
        }
        return "unknown fault '\(text)': expected one of \(Self.acceptedForms)"
    }
}
