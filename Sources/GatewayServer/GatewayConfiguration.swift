import Foundation
import Providers

/// How a gateway runs. Every field has a documented default, and a YAML config file may set any of them:
///
/// - `host` (text, default `127.0.0.1`): address to listen on
/// - `port` (0–65535, default 8080; 0 picks a free port)
/// - `providers` (path, default `providers`): folder of provider definition files; relative to the config file
/// - `deadline_ms` (1–60000, default 2000): how long a query may take in all; providers that have not answered
///   by then are reported `timeout`
/// - `data_dir` (path, default `data`): where the gateway keeps its own state (never clinical data);
///   relative to the config file
public struct GatewayConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var providersDirectory: String
    public var deadlineMilliseconds: Int
    public var dataDirectory: String

    public init(
        host: String = "127.0.0.1", port: Int = 8080, providersDirectory: String = "providers",
        deadlineMilliseconds: Int = 2000, dataDirectory: String = "data"
    ) {
        self.host = host
        self.port = port
        self.providersDirectory = providersDirectory
        self.deadlineMilliseconds = deadlineMilliseconds
        self.dataDirectory = dataDirectory
    }

    static let keys: Set<String> = ["host", "port", "providers", "deadline_ms", "data_dir"]

    /// Reads a config file. Paths in it are taken relative to the file's folder.
    public init(file path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigurationError(file: path, problem: "cannot read the config file")
        }
        let fields = try YAMLFields(yaml: text, file: path, allowedKeys: Self.keys)
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") || folder.isEmpty ? relative : (folder as NSString).appendingPathComponent(relative)
        }
        let defaults = GatewayConfiguration()
        self.init(
            host: try fields.string("host", required: false) ?? defaults.host,
            port: try fields.integer("port", in: 0...65535, required: false) ?? defaults.port,
            providersDirectory: resolve(try fields.string("providers", required: false) ?? defaults.providersDirectory),
            deadlineMilliseconds: try fields.integer("deadline_ms", in: 1...60_000, required: false)
                ?? defaults.deadlineMilliseconds,
            dataDirectory: resolve(try fields.string("data_dir", required: false) ?? defaults.dataDirectory))
    }
}
