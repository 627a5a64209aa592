/// The gateway's request id for the query being answered, sent to every provider asked as `CareGate-Request-Id`, so
/// that a provider team can find in its own logs the request a clinician, an operator or the audit trail names.
///
/// The gateway's edge sets `QueryCorrelation.$requestID` around a query's fan-out; the fan-out's tasks inherit it.
/// A random UUID the gateway made: no patient data.
public enum QueryCorrelation {
    /// The header that carries it, to providers and from another CareGate gateway.
    public static let header = "CareGate-Request-Id"

    @TaskLocal public static var requestID: String?

    /// Whether `text` may be logged as another gateway's request id: 1 to 64 letters, digits, `-`, `_` or `.` (a
    /// UUID is 36). Anything else a peer sends is left out of the logs.
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    true
                default: false
                }
            }
    }
}
