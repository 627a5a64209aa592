import CareRecords
import Foundation
import Yams

/// A policy file that cannot be used, naming where: `policy.yaml:12: roles.R8000.categories: …`.
public struct RolePolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the fault is the file as a whole.
    public var line: Int?
    /// The dotted path of the key at fault, e.g. `roles.R8000.categories`.
    public var key: String?
    public var message: String

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.map { "\(place): \($0): \(message)" } ?? "\(place): \(message)"
    }
}

extension RolePolicy {
    /// Reads a policy file.
    public init(contentsOfFile path: String) throws(RolePolicyError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RolePolicyError(file: path, line: nil, key: nil, message: "cannot read the file")
        }
        try self.init(yaml: text, file: path)
    }

    /// Parses policy YAML. Unknown keys, categories, roles and malformed codes are errors, not ignored:
    /// a typo in a policy must not silently widen or narrow what people see.
    ///
    /// - Parameter file: the name used in errors.
    public init(yaml: String, file: String) throws(RolePolicyError) {
        let reader = PolicyReader(file: file)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw RolePolicyError(file: file, line: nil, key: nil, message: "the file is empty")
            }
            root = node
        } catch let error as RolePolicyError {
            throw error
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _),
            let YamlError.composer(_, problem, mark, _)
        {
            throw RolePolicyError(file: file, line: mark.line, key: nil, message: "not valid YAML: \(problem)")
        } catch {
            throw RolePolicyError(file: file, line: nil, key: nil, message: "not valid YAML")
        }
        self = try reader.policy(root)
    }
}

private struct PolicyReader {
    let file: String

    func fail(_ node: Node?, _ key: String?, _ message: String) -> RolePolicyError {
        RolePolicyError(file: file, line: node?.mark?.line, key: key, message: message)
    }

    /// A mapping whose keys are all strings from `allowed` (nil: any key), in file order.
    func mapping(_ node: Node, _ path: String, allowed: Set<String>?) throws(RolePolicyError) -> [(String, Node, Node)] {
        guard let mapping = node.mapping else { throw fail(node, path, "expected a mapping") }
        var seen: Set<String> = []
        var pairs: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string else { throw fail(key, path, "keys must be plain text") }
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            if let allowed, !allowed.contains(name) {
                throw fail(key, keyPath, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(name).inserted else { throw fail(key, keyPath, "duplicate key") }
            pairs.append((name, key, value))
        }
        return pairs
    }

    func text(_ node: Node, _ path: String) throws(RolePolicyError) -> String {
        guard let scalar = node.scalar, !scalar.string.isEmpty else { throw fail(node, path, "expected text") }
        return scalar.string
    }

    func list(_ node: Node, _ path: String) throws(RolePolicyError) -> [Node] {
        guard let sequence = node.sequence else { throw fail(node, path, "expected a list") }
        return Array(sequence)
    }

    func policy(_ root: Node) throws(RolePolicyError) -> RolePolicy {
        var roles: [RolePolicy.Role] = []
        var groups: [RolePolicy.SensitiveGroup] = []
        var sawVersion = false
        var sensitiveNode: Node?
        for (name, _, value) in try mapping(root, "", allowed: ["version", "roles", "sensitive"]) {
            switch name {
            case "version":
                guard value.int == 1 else { throw fail(value, "version", "only version 1 is understood") }
                sawVersion = true
            case "roles":
                for (code, keyNode, body) in try mapping(value, "roles", allowed: nil) {
                    roles.append(try role(code, keyNode, body))
                }
            default:
                sensitiveNode = value
            }
        }
        guard sawVersion else { throw fail(root, "version", "missing (write `version: 1`)") }
        guard !roles.isEmpty else { throw fail(root, "roles", "missing or empty: no one could see anything") }
        let known = Set(roles.map(\.code))
        if let sensitiveNode {
            for (name, _, body) in try mapping(sensitiveNode, "sensitive", allowed: nil) {
                groups.append(try group(name, body, knownRoles: known))
            }
        }
        return RolePolicy(roles: roles, sensitiveGroups: groups)
    }

    func role(_ code: String, _ keyNode: Node, _ body: Node) throws(RolePolicyError) -> RolePolicy.Role {
        let path = "roles.\(code)"
        guard RolePolicy.isRoleCode(code) else {
            throw fail(keyNode, path, "not an NHS RBAC job role code (`R` and four digits, e.g. R8000)")
        }
        var title: String?
        var categories: Set<EntryCategory>?
        for (name, _, value) in try mapping(body, path, allowed: ["title", "categories"]) {
            if name == "title" {
                title = try text(value, "\(path).title")
            } else if value.scalar?.string == "all" {
                categories = Set(EntryCategory.allCases)
            } else {
                var set: Set<EntryCategory> = []
                for item in try list(value, "\(path).categories") {
                    let raw = try text(item, "\(path).categories")
                    guard let category = EntryCategory(rawValue: raw) else {
                        let known = EntryCategory.allCases.map(\.rawValue).joined(separator: ", ")
                        throw fail(item, "\(path).categories", "unknown category `\(raw)` (known: \(known), or `all`)")
                    }
                    set.insert(category)
                }
                categories = set
            }
        }
        guard let categories else { throw fail(body, "\(path).categories", "missing") }
        return RolePolicy.Role(code: code, title: title, categories: categories)
    }

    func group(_ name: String, _ body: Node, knownRoles: Set<String>) throws(RolePolicyError) -> RolePolicy.SensitiveGroup {
        let path = "sensitive.\(name)"
        var title: String?
        var concepts: Set<RolePolicy.CodedConcept>?
        var allowed: Set<String>?
        for (key, _, value) in try mapping(body, path, allowed: ["title", "roles", "codes"]) {
            switch key {
            case "title":
                title = try text(value, "\(path).title")
            case "roles":
                var set: Set<String> = []
                for item in try list(value, "\(path).roles") {
                    let code = try text(item, "\(path).roles")
                    guard RolePolicy.isRoleCode(code) else {
                        throw fail(item, "\(path).roles", "`\(code)` is not an NHS RBAC job role code")
                    }
                    guard knownRoles.contains(code) else {
                        throw fail(item, "\(path).roles", "role \(code) is not defined under `roles`")
                    }
                    set.insert(code)
                }
                allowed = set
            default:
                var set: Set<RolePolicy.CodedConcept> = []
                for item in try list(value, "\(path).codes") {
                    set.insert(try concept(item, "\(path).codes"))
                }
                concepts = set
            }
        }
        guard let concepts, !concepts.isEmpty else { throw fail(body, "\(path).codes", "missing or empty") }
        guard let allowed else { throw fail(body, "\(path).roles", "missing (write `roles: []` to allow no one)") }
        return RolePolicy.SensitiveGroup(name: name, title: title, concepts: concepts, allowedRoles: allowed)
    }

    func concept(_ node: Node, _ path: String) throws(RolePolicyError) -> RolePolicy.CodedConcept {
        var system: String?
        var code: String?
        for (key, _, value) in try mapping(node, path, allowed: ["system", "code", "display"]) {
            switch key {
            case "system": system = try text(value, "\(path).system")
            case "code": code = try text(value, "\(path).code")
            default: _ = try text(value, "\(path).display")
            }
        }
        guard let system else { throw fail(node, "\(path).system", "missing") }
        guard let code else { throw fail(node, "\(path).code", "missing") }
        let concept = RolePolicy.CodedConcept(system: system, code: code)
        if concept.system == Coding.System.snomedCT {
            guard (6...18).contains(code.count), code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw fail(node, "\(path).code", "`\(code)` is not a SNOMED CT identifier (6 to 18 digits)")
            }
        } else if !system.contains(":") {
            throw fail(node, "\(path).system", "`\(system)` is neither `snomed` nor a code system URI")
        }
        return concept
    }
}
