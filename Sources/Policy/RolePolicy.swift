import CareRecords

/// Who may see what: NHS RBAC job roles mapped to the entry categories they may see, and sensitive groups of
/// coded concepts withheld from every role not named as allowed them. Loaded from `policy.yaml`
/// (see `deploy/policy.yaml` for the format); immutable once loaded.
public struct RolePolicy: Sendable, Equatable {
    public struct Role: Sendable, Equatable {
        /// NHS RBAC job role code, e.g. `R8000`.
        public var code: String
        public var title: String?
        public var categories: Set<EntryCategory>

        public init(code: String, title: String? = nil, categories: Set<EntryCategory>) {
            self.code = code
            self.title = title
            self.categories = categories
        }
    }

    /// A coded concept, its system in canonical form (see `canonicalSystem(_:)`).
    public struct CodedConcept: Sendable, Hashable {
        public var system: String
        public var code: String

        public init(system: String, code: String) {
            self.system = RolePolicy.canonicalSystem(system)
            self.code = code
        }
    }

    /// Concepts withheld from every role not in `allowedRoles`, e.g. sexual health or addiction services.
    public struct SensitiveGroup: Sendable, Equatable {
        public var name: String
        public var title: String?
        public var concepts: Set<CodedConcept>
        public var allowedRoles: Set<String>

        public init(name: String, title: String? = nil, concepts: Set<CodedConcept>, allowedRoles: Set<String>) {
            self.name = name
            self.title = title
            self.concepts = concepts
            self.allowedRoles = allowedRoles
        }
    }

    public private(set) var roles: [String: Role]
    public private(set) var sensitiveGroups: [SensitiveGroup]

    public init(roles: [Role], sensitiveGroups: [SensitiveGroup] = []) {
        self.roles = Dictionary(roles.map { ($0.code, $0) }, uniquingKeysWith: { _, last in last })
        self.sensitiveGroups = sensitiveGroups
    }

    public func role(_ code: String) -> Role? { roles[code] }

    /// The sensitive concepts a role may not see.
    public func withheldConcepts(forRole code: String) -> Set<CodedConcept> {
        sensitiveGroups.filter { !$0.allowedRoles.contains(code) }.reduce(into: []) { $0.formUnion($1.concepts) }
    }

    /// An NHS RBAC job role code: `R` and four digits.
    public static func isRoleCode(_ text: String) -> Bool {
        text.utf8.count == 5 && text.first == "R" && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Providers spell SNOMED CT several ways (FHIR's URI, CDA's OID); one spelling makes them comparable.
    public static func canonicalSystem(_ system: String) -> String {
        switch system.lowercased() {
        case "snomed", "snomed-ct", "sct", "2.16.840.1.113883.6.96", "urn:oid:2.16.840.1.113883.6.96",
            Coding.System.snomedCT:
            Coding.System.snomedCT
        default:
            system
        }
    }
}
