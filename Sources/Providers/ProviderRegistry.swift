import CareRecords
import Foundation

/// The providers the gateway fans out to, loaded from a folder of `*.yaml` files, in id order.
public struct ProviderRegistry: Sendable {
    public let definitions: [ProviderDefinition]

    public init(definitions: [ProviderDefinition]) throws(ConfigurationError) {
        var seen: Set<ProviderID> = []
        for definition in definitions where !seen.insert(definition.id).inserted {
            throw ConfigurationError(file: "providers", key: "id", problem: "provider id '\(definition.id)' is declared twice")
        }
        self.definitions = definitions.sorted { $0.id < $1.id }
    }

    /// Reads every `*.yaml` / `*.yml` file in `directory` except mapping files (`*.mapping.yaml`). Any bad file stops the load with an error naming it:
    /// a gateway that silently drops a provider would show clinicians an incomplete record as if it were whole.
    public static func load(directory: String) throws(ConfigurationError) -> ProviderRegistry {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigurationError(file: directory, problem: "providers folder not found")
        }
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigurationError(file: directory, problem: "cannot list the providers folder")
        }
        // Mapping files (`*.mapping.yaml`) live beside the provider files that name them; they are not providers.
        let files = names.filter { name in
            (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && !name.contains(".mapping.")
        }.sorted()
        guard !files.isEmpty else {
            throw ConfigurationError(file: directory, problem: "no provider files (*.yaml) in the providers folder")
        }
        var definitions: [ProviderDefinition] = []
        var filesByID: [ProviderID: String] = [:]
        for name in files {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = manager.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(file: path, problem: "cannot read the file as UTF-8 text")
            }
            let definition = try ProviderDefinition(yaml: text, file: path)
            if let other = filesByID[definition.id] {
                throw ConfigurationError(
                    file: path, key: "id", problem: "provider id '\(definition.id)' is already declared in \(other)")
            }
            filesByID[definition.id] = path
            definitions.append(definition)
        }
        return try ProviderRegistry(definitions: definitions)
    }
}
