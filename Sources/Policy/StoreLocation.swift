/// Where the gateway's own state (opt-outs, audit metadata — never clinical data) lives.
///
/// - `sqlite`: a file in the data directory, the embedded default for one replica.
/// - `postgres`: a shared PostgreSQL database (config `store.url`, `postgres://user:password@host:port/database`),
///   for several replicas that must agree at once.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// A location from config text: a `postgres://` or `postgresql://` URL, else a SQLite file path.
    public init(_ text: String) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(url: text)
        } else {
            self = .sqlite(path: text)
        }
    }

    /// Safe to log: a PostgreSQL URL's password is masked.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:\(path)"
        case .postgres(let url):
            guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://"),
                let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
            else { return url }
            return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
        }
    }
}
