/// The kinds of fact in a shared care record. The raw values are the wire spelling in the JSON view.
public enum EntryCategory: String, CaseIterable, Codable, Sendable, Comparable {
    case appointment
    case encounter
    case medication
    case allergy
    case testResult = "test-result"
    case observation
    case document
    case carePlan = "care-plan"
    case condition
    case immunisation

    /// In declaration order.
    public static func < (lhs: EntryCategory, rhs: EntryCategory) -> Bool {
        lhs.sortIndex < rhs.sortIndex
    }

    /// Each case's place in `allCases`, worked out once: views are sorted by category, and searching
    /// `allCases` on every comparison showed in the merge's profile.
    private static let sortIndices = Dictionary(
        uniqueKeysWithValues: allCases.enumerated().map { ($0.element, $0.offset) })

    private var sortIndex: Int { Self.sortIndices[self]! }
}
