import Foundation
import Logging
import Synchronization

/// Log lines for machines and people: JSON lines (the default), logfmt, or plain text, one event per line on
/// standard error. Each line has the time (UTC, milliseconds), level, logger label, message and metadata.
///
/// What is logged above debug never holds patient identifiers or clinical content; that is the callers' rule,
/// and a test scans the logs of a live run for it.
public struct StructuredLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case json
        case logfmt
        case plain
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: Format
    private let sink: LogSink

    public init(label: String, format: Format, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        sink.write(Self.line(format: format, time: time, level: event.level, label: label,
                             message: "\(event.message)", metadata: merged))
    }

    static func line(
        format: Format, time: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        let keys = metadata.keys.sorted()
        switch format {
        case .json:
            var fields = [("ts", time), ("level", level.rawValue), ("logger", label), ("msg", message)]
            fields += keys.map { ($0, "\(metadata[$0]!)") }
            return "{" + fields.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",") + "}\n"
        case .logfmt:
            var fields = [("ts", time), ("level", level.rawValue), ("logger", label), ("msg", message)]
            fields += keys.map { ($0, "\(metadata[$0]!)") }
            return fields.map { "\($0.0)=\(logfmtValue($0.1))" }.joined(separator: " ") + "\n"
        case .plain:
            let rendered = keys.map { "\($0)=\(metadata[$0]!)" }.joined(separator: " ")
            return "\(time) \(level.rawValue) \(label): \(message)\(rendered.isEmpty ? "" : " " + rendered)\n"
        }
    }

    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func logfmtValue(_ text: String) -> String {
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.value < 0x20 }
        return needsQuotes ? jsonString(text) : text
    }
}

/// Where log lines go: one writer at a time, so lines from concurrent tasks never interleave.
public final class LogSink: Sendable {
    private let handle: Mutex<FileHandle>

    public init(_ handle: FileHandle) {
        self.handle = Mutex(handle)
    }

    public static let standardError = LogSink(FileHandle.standardError)

    func write(_ line: String) {
        handle.withLock { $0.write(Data(line.utf8)) }
    }
}
