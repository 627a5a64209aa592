/// A provider's identifier in CareGate (`providers/<id>.yaml`): lower-case letters, digits and hyphens.
public struct ProviderID: RawRepresentable, Hashable, Sendable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// True when the text is usable as an id: 1–64 of `a-z`, `0-9` and `-`, starting with a letter.
    public static func isValid(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first), text.unicodeScalars.count <= 64
        else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    public var description: String { rawValue }
    public static func < (lhs: ProviderID, rhs: ProviderID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The kind of care provider behind an adapter. Raw values are the spelling in provider files.
public enum ProviderKind: String, CaseIterable, Codable, Sendable {
    case trust
    case gp
    case ambulance
    case nhs111
    case cardiacMonitoring = "cardiac-monitoring"
    case careHome = "care-home"
    /// Another CareGate gateway (federation): asked on behalf of the clinician, with a token this gateway mints
    /// (`auth: on_behalf_of:`), never for a query that itself came through a gateway.
    case gateway
}
