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
    /// Every provider that reported this fact, with its own id for it; at least one.
    public var sources: [SourceReference]
    /// Set when another entry in the view is the same concept but disagrees on what matters clinically.
    public var conflict: Conflict?

    public init(
        id: String, category: EntryCategory, code: Coding?, date: ClinicalDate?, summary: String,
        status: String?, value: Quantity?, dose: String?, sources: [SourceReference], conflict: Conflict? = nil
    ) {
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
