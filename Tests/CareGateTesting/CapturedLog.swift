import Logging
import Synchronization

/// Collects log entries; a LogHandler is a value, so every copy shares this box.
public final class CapturedLog: LogHandler, Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
    }
    private let storage = Mutex<[Entry]>([])

    public init() {}
    public var entries: [Entry] { storage.withLock { $0 } }

    public var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    public var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    public func log(event: LogEvent) {
        storage.withLock { $0.append(Entry(level: event.level, message: "\(event.message) \(event.metadata ?? [:])")) }
    }
}
