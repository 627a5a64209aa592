/// A fault a simulated provider injects into its answers, changeable while it runs, so gateway behaviour under
/// slow, broken and silent providers can be shown and tested.
///
/// The text form (`description`, `init(parsing:)`) is what the CLI accepts: `none`, `delay:200`, `delay:50-300`,
/// `hang`, `http-500` (any status 400–599), `malformed`, `reset`.
public enum SimulatedFault: Sendable, Equatable, CustomStringConvertible, LosslessStringConvertible {
    /// Answer normally.
    case none
    /// Answer after a fixed delay.
    case fixedDelay(milliseconds: Int)
    /// Answer after a delay drawn uniformly from the range, from a generator seeded per provider, so a run with the
    /// same seed sees the same sequence of delays.
    case randomDelay(minMilliseconds: Int, maxMilliseconds: Int)
    /// Never answer: keep the connection open until the client closes it or the simulator stops.
    case hang
    /// Answer with this HTTP status and a short FHIR OperationOutcome.
    case httpError(status: Int)
    /// Answer 200 with a truncated, not well-formed Bundle.
    case malformedXML
    /// Close the connection abruptly (SO_LINGER 0, so the client sees a TCP reset) without answering.
    case connectionReset

    /// The longest delay accepted from text: ten minutes.
    public static let maximumDelayMilliseconds = 600_000

    public var description: String {
        switch self {
        case .none: "none"
        case .fixedDelay(let milliseconds): "delay:\(milliseconds)"
        case .randomDelay(let low, let high): "delay:\(low)-\(high)"
        case .hang: "hang"
        case .httpError(let status): "http-\(status)"
        case .malformedXML: "malformed"
        case .connectionReset: "reset"
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

    public static let acceptedForms = "none, delay:MS, delay:MIN-MAX, hang, http-STATUS (400–599), malformed, reset"

    public var description: String {
        if let reason {
            return "invalid fault '\(text)': \(reason)"
        }
        return "unknown fault '\(text)': expected one of \(Self.acceptedForms)"
    }
}
