import Logging

/// The logger handed to the database drivers: whatever level they choose (PostgresNIO reports a failed
/// connection attempt at info), it reaches the gateway's logger at debug. A library logs at debug or below;
/// a store that is down reaches the operator as an `AuditStoreError` and the 503, not as driver chatter.
struct AuditDriverLogHandler: LogHandler {
    private var wrapped: Logger
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    static func logger(wrapping logger: Logger) -> Logger {
        Logger(label: logger.label) { _ in AuditDriverLogHandler(wrapped: logger) }
    }

    private init(wrapped: Logger) {
        self.wrapped = wrapped
        self.metadataProvider = wrapped.handler.metadataProvider
    }

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = max(event.level, .debug) == .debug ? event.level : .debug
        wrapped.log(
            level: level, event.message, metadata: metadata.merging(event.metadata ?? [:]) { $1 },
            source: event.source, file: event.file, function: event.function, line: event.line)
    }
}
