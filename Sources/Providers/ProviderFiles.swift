import CareRecords
import Foundation

/// The providers folder as the admin API changes it: one `<id>.yaml` per provider, written atomically so a
/// reload never reads half a file.
public struct ProviderFiles: Sendable {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    public func path(for id: ProviderID) -> String {
        (folder as NSString).appendingPathComponent("\(id.rawValue).yaml")
    }

    public func write(_ yaml: String, for id: ProviderID) throws {
        try yaml.write(toFile: path(for: id), atomically: true, encoding: .utf8)
    }

    public func delete(_ id: ProviderID) throws {
        let path = path(for: id)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }
}
