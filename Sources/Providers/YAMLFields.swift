import Yams

/// A problem in a YAML file the gateway reads at start (a provider definition, the gateway config), said so a
/// person can fix it: the file, the line, the key and what is wrong.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var problem: String

    public init(file: String, line: Int? = nil, key: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let key { text += ": key '\(key)'" }
        return text + ": " + problem
    }
}

/// A mapping in a small YAML file (the top level, or one nested at `path`), read key by key with errors that
/// name file, line and key. Unknown keys are refused, so a misspelt `timout_ms` fails loudly instead of silently
/// taking a default.
public struct YAMLFields {
    public let file: String
    /// Where this mapping sits (`entries[2]`), empty at the top; error keys are prefixed with it.
    public let path: String
    /// The keys present, in file order.
    public let keys: [String]
    private let pairs: [String: (key: Node, value: Node)]
    private let mappingLine: Int?

    /// The top-level mapping of a document.
    public init(yaml: String, file: String, allowedKeys: Set<String>) throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            let firstLine = String(describing: error).split(separator: "\n").first.map(String.init) ?? ""
            throw ConfigurationError(file: file, problem: "not valid YAML: \(firstLine)")
        } catch {
            throw ConfigurationError(file: file, problem: "not valid YAML")
        }
        guard let root else {
            throw ConfigurationError(file: file, problem: "expected a mapping of keys to values at the top level")
        }
        try self.init(root, file: file, path: "", allowedKeys: allowedKeys)
    }

    /// A mapping node at `path`; `allowedKeys` nil allows any key (e.g. namespace prefixes).
    public init(_ node: Node, file: String, path: String, allowedKeys: Set<String>?) throws(ConfigurationError) {
        self.file = file
        self.path = path
        mappingLine = node.mark.map { $0.line }
        guard let mapping = node.mapping else {
            throw ConfigurationError(
                file: file, line: mappingLine, key: path.isEmpty ? nil : path,
                problem: "expected a mapping of keys to values" + (path.isEmpty ? " at the top level" : ""))
        }
        var pairs: [String: (key: Node, value: Node)] = [:]
        var keys: [String] = []
        for (key, value) in mapping {
            let keyLine = key.mark.map { $0.line }
            guard let name = key.scalar?.string, !name.isEmpty else {
                throw ConfigurationError(
                    file: file, line: keyLine, key: path.isEmpty ? nil : path, problem: "keys must be plain strings")
            }
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            if let allowedKeys, !allowedKeys.contains(name) {
                throw ConfigurationError(
                    file: file, line: keyLine, key: keyPath,
                    problem: "unknown key (known keys: \(allowedKeys.sorted().joined(separator: ", ")))")
            }
            guard pairs[name] == nil else {
                throw ConfigurationError(file: file, line: keyLine, key: keyPath, problem: "given twice")
            }
            pairs[name] = (key, value)
            keys.append(name)
        }
        self.pairs = pairs
        self.keys = keys
    }

    public func has(_ key: String) -> Bool { pairs[key] != nil }

    /// The raw node of a key, for nested mappings and lists.
    public func value(_ key: String) -> Node? { pairs[key]?.value }

    /// The line a key is on (or the mapping's, for a missing key), for errors raised after reading.
    public func line(of key: String) -> Int? { pairs[key]?.key.mark.map { $0.line } ?? mappingLine }

    /// An error about `key`, on its line (or this mapping's, when the key is missing).
    public func error(_ key: String, _ problem: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line(of: key), key: path.isEmpty ? key : "\(path).\(key)", problem: problem)
    }

    /// A scalar text value, trimmed and not empty (nil when absent and optional).
    public func string(_ key: String, required: Bool = true) throws(ConfigurationError) -> String? {
        guard let value = pairs[key]?.value else {
            if required { throw error(key, "missing (required)") }
            return nil
        }
        guard let scalar = value.scalar, !value.tag.description.hasSuffix(":null") else {
            throw error(key, "expected a text value")
        }
        let text = scalar.string.trimmingWhitespace
        if text.isEmpty { throw error(key, "must not be empty") }
        return text
    }

    /// `true` or `false` (nil when absent).
    public func boolean(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let text = try string(key, required: false) else { return nil }
        guard let value = Bool(text) else { throw error(key, "expected true or false, got '\(text)'") }
        return value
    }

    /// A whole number within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>, required: Bool = true) throws(ConfigurationError)
        -> Int?
    {
        guard let text = try string(key, required: required) else { return nil }
        guard let number = Int(text) else { throw error(key, "expected a whole number, got '\(text)'") }
        guard range.contains(number) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    /// A list of scalar strings (a YAML sequence).
    public func strings(_ key: String, required: Bool = true) throws(ConfigurationError) -> [String]? {
        guard let value = pairs[key]?.value else {
            if required { throw error(key, "missing (required)") }
            return nil
        }
        guard let sequence = value.sequence else { throw error(key, "expected a list") }
        var result: [String] = []
        for item in sequence {
            guard let text = item.scalar?.string.trimmingWhitespace, !text.isEmpty else {
                throw error(key, "every item must be a non-empty text value")
            }
            result.append(text)
        }
        return result
    }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" || first == "\r" {
            scalars.removeFirst()
        }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" || last == "\r" {
            scalars.removeLast()
        }
        return String(scalars)
    }
}
