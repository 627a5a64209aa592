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

    public static func < (lhs: EntryCategory, rhs: EntryCategory) -> Bool {
        lhs.sortIndex < rhs.sortIndex
    }

    private var sortIndex: Int { Self.allCases.firstIndex(of: self)! }
}
