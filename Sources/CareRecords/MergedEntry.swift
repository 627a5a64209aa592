/// One fact in the merged view: what one or more providers sent, collapsed, with every source kept.
public struct MergedEntry: Hashable, Sendable, Codable {
    /// Stable id of the merged fact in this view, derived from its sources (not a provider's id).
    public var id: String
    public var category: EntryCategory
    public var code: Coding?
    public var date: ClinicalDate?
    public var summary: String
    public var status: String?
    public var value: Quantity?
    public var dose: String?
    /// A medicine given once, at `date`, rather than one the patient is on (`CareEntry.administered`).
    public var administered: Bool
    /// Every provider that reported this fact, with its own id for it; at least one.
    public var sources: [SourceReference]
    /// Each source's own line where it differs from `summary` (by source; empty when all wrote the same): the merged
    /// line is one source's, and another's detail — a criticality beside a severity — must still be there to read.
    public var sourceSummaries: [SourceReference: String]
    /// Set when another entry in the view is the same concept but disagrees on what matters clinically.
    public var conflict: Conflict?

    public init(
        id: String, category: EntryCategory, code: Coding?, date: ClinicalDate?, summary: String,
        status: String?, value: Quantity?, dose: String?, administered: Bool = false, sources: [SourceReference],
        sourceSummaries: [SourceReference: String] = [:], conflict: Conflict? = nil
    ) {
        self.administered = administered
        self.sourceSummaries = sourceSummaries
        self.id = id
        self.category = category
        self.code = code
        self.date = date
        self.summary = summary
        self.status = status
        self.value = value
        self.dose = dose
        self.sources = sources
        self.conflict = conflict
    }
}

extension MergedEntry {
    private enum CodingKeys: String, CodingKey {
        case id, category, code, date, summary, status, value, dose, administered, sources, conflict
    }

    /// A source as the JSON view writes it: its provider and id, and its own line when it differs.
    private struct SourceLine: Codable {
        var provider: ProviderID
        var id: String
        var summary: String?
    }

    /// `administered` is written only when true, as the JSON view writes it, and read as false when absent; each
    /// source carries its own `summary` when it differs.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let lines = try container.decode([SourceLine].self, forKey: .sources)
        var sourceSummaries: [SourceReference: String] = [:]
        for line in lines {
            if let summary = line.summary { sourceSummaries[SourceReference(provider: line.provider, id: line.id)] = summary }
        }
        self.init(
            id: try container.decode(String.self, forKey: .id),
            category: try container.decode(EntryCategory.self, forKey: .category),
            code: try container.decodeIfPresent(Coding.self, forKey: .code),
            date: try container.decodeIfPresent(ClinicalDate.self, forKey: .date),
            summary: try container.decode(String.self, forKey: .summary),
            status: try container.decodeIfPresent(String.self, forKey: .status),
            value: try container.decodeIfPresent(Quantity.self, forKey: .value),
            dose: try container.decodeIfPresent(String.self, forKey: .dose),
            administered: try container.decodeIfPresent(Bool.self, forKey: .administered) ?? false,
            sources: lines.map { SourceReference(provider: $0.provider, id: $0.id) }, sourceSummaries: sourceSummaries,
            conflict: try container.decodeIfPresent(Conflict.self, forKey: .conflict))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(category, forKey: .category)
        try container.encodeIfPresent(code, forKey: .code)
        try container.encodeIfPresent(date, forKey: .date)
        try container.encode(summary, forKey: .summary)
        try container.encodeIfPresent(status, forKey: .status)
        try container.encodeIfPresent(value, forKey: .value)
        try container.encodeIfPresent(dose, forKey: .dose)
        if administered { try container.encode(true, forKey: .administered) }
        try container.encode(
            sources.map { SourceLine(provider: $0.provider, id: $0.id, summary: sourceSummaries[$0]) }, forKey: .sources)
        try container.encodeIfPresent(conflict, forKey: .conflict)
    }
}

/// Two or more entries that are the same concept but disagree (same medicine, different dose; same test at
/// the same time, different value). They are kept apart, never silently dropped, and each names the others.
public struct Conflict: Hashable, Sendable, Codable {
    /// What differs: `dose`, `value`, `status`.
    public var field: String
    /// Ids of the other merged entries it disagrees with.
    public var with: [String]

    public init(field: String, with: [String]) {
        self.field = field
        self.with = with
    }
}
