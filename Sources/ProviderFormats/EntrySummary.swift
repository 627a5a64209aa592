import CareRecords

/// Entry summaries as every decoder writes them: "Headline — detail; detail", or the headline alone.
enum EntrySummary {
    /// Made in one allocation: every entry has a summary, and joining arrays of parts made several. At most two
    /// details: no reader has more.
    static func text(_ headline: String, _ first: String?, _ second: String? = nil) -> String {
        guard first != nil || second != nil else { return headline }
        var text = ""
        text.reserveCapacity(
            headline.utf8.count + " — ".utf8.count + (first?.utf8.count ?? 0) + 2 + (second?.utf8.count ?? 0))
        text += headline
        text += " — "
        if let first { text += first }
        if let second {
            if first != nil { text += "; " }
            text += second
        }
        return text
    }

    /// The summary of a statement its source withdrew, said first so that no list cut short hides it: "Entered in
    /// error: Potassium: 6.8 mmol/L". Other statuses leave the summary as it is.
    static func marking(_ summary: String, status: String?) -> String {
        CareEntry.withdrawal(status).map { $0 + ": " + summary } ?? summary
    }
}
