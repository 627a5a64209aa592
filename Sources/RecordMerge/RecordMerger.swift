import CareRecords

/// What a merge produced.
public struct MergeResult: Sendable {
    /// Newest first; undated entries last.
    public var entries: [MergedEntry]
    /// How many provider entries were folded into another (input count minus output count).
    public var duplicatesCollapsed: Int
    /// How many merged entries carry a conflict flag.
    public var conflicts: Int
}

/// De-duplicates entries from several providers into one view that keeps every source.
///
/// A merged fact takes the most precise date, the most detailed summary, `active` from any source, and otherwise the
/// first source's fields.
///
/// Matching, strongest first: a shared identifier within a category (order, accession, document id), then the
/// per-category `MatchKey`; only statements of the same standing match (a withdrawn one, or a vaccine not given,
/// never joins one asserting the fact). Matches are transitive (union–find). Near-matches that disagree — the same medicine at
/// another dose, the same test at the same time with another value — stay separate and are flagged as a conflict,
/// never dropped. Every step hashes; nothing compares entries pairwise, so cost grows linearly with the input.
public enum RecordMerger {
    public static func merge(_ entries: [CareEntry]) -> MergeResult {
        var groups = UnionFind(count: entries.count)
        var firstByIdentifier: [IdentifierKey: Int] = [:]
        firstByIdentifier.reserveCapacity(entries.count)
        var firstByMatch: [MatchKey: Int] = [:]
        firstByMatch.reserveCapacity(entries.count)

        for (index, entry) in entries.enumerated() {
            for identifier in entry.identifiers {
                let key = IdentifierKey(category: entry.category, identifier: identifier, standing: entry.standing)
                if let first = firstByIdentifier[key] {
                    groups.union(first, index)
                } else {
                    firstByIdentifier[key] = index
                }
            }
            let key = MatchKey(entry)
            if let first = firstByMatch[key] {
                groups.union(first, index)
            } else {
                firstByMatch[key] = index
            }
        }

        // Members of each group, in input order (the first member is the group's representative), as runs of
        // one flat array: an array per group cost an allocation per merged entry.
        var groupOf = [Int](repeating: -1, count: entries.count)
        var groupSizes: [Int] = []
        var groupByRoot = [Int](repeating: -1, count: entries.count)
        for index in entries.indices {
            let root = groups.find(index)
            if groupByRoot[root] < 0 {
                groupByRoot[root] = groupSizes.count
                groupSizes.append(0)
            }
            groupOf[index] = groupByRoot[root]
            groupSizes[groupByRoot[root]] += 1
        }
        var groupStarts = [Int](repeating: 0, count: groupSizes.count + 1)
        for (group, size) in groupSizes.enumerated() { groupStarts[group + 1] = groupStarts[group] + size }
        var members = [Int](repeating: 0, count: entries.count)
        var filled = groupStarts
        for index in entries.indices {
            members[filled[groupOf[index]]] = index
            filled[groupOf[index]] += 1
        }

        var merged: [MergedEntry] = []
        merged.reserveCapacity(groupSizes.count)
        for group in groupSizes.indices {
            merged.append(mergedEntry(members[groupStarts[group]..<groupStarts[group + 1]], of: entries))
        }
        let conflicts = flagConflicts(&merged)
        return MergeResult(
            entries: newestFirst(merged), duplicatesCollapsed: entries.count - merged.count, conflicts: conflicts)
    }

    private static func mergedEntry(_ members: ArraySlice<Int>, of entries: [CareEntry]) -> MergedEntry {
        let first = entries[members[members.startIndex]]
        // Most facts come from one provider: nothing to combine.
        guard members.count > 1 else {
            return MergedEntry(
                id: stableID(first.source), category: first.category, code: first.code, date: first.date,
                summary: first.summary, status: first.status, value: first.value, dose: first.dose,
                administered: first.administered, sources: [first.source])
        }
        var sources = Array(Set(members.map { entries[$0].source })).sorted()
        if sources.isEmpty { sources = [first.source] }
        // The most precise date any source gave, so a day-precision copy does not hide another's time.
        var date: ClinicalDate?
        var code = first.code
        var status = first.status
        var value = first.value
        var dose = first.dose
        // The most detailed line any source wrote (the most letters and digits; the first of equals): a care home's
        // "Penicillin — Urticaria" must not stand for the GP's "Penicillin allergy — reaction: Urticaria;
        // criticality: high". Spacing and punctuation do not count, so a copy's stray full stop does not win.
        var summary = first.summary
        var detail = Self.detail(of: summary)
        for member in members {
            let entry = entries[member]
            let candidate = Self.detail(of: entry.summary)
            if candidate > detail { (summary, detail) = (entry.summary, candidate) }
            if let candidate = entry.date, date == nil || date!.precision < candidate.precision { date = candidate }
            if code == nil { code = entry.code }
            // Sources disagreeing on whether the fact is current: any that says `active` wins, so an allergy or a
            // medicine one provider holds active never reads as inactive because another's copy came first.
            if status == nil || entry.status == "active" { status = entry.status ?? status }
            if value == nil { value = entry.value }
            if dose == nil { dose = entry.dose }
        }
        var sourceSummaries: [SourceReference: String] = [:]
        for member in members where entries[member].summary != summary {
            sourceSummaries[entries[member].source] = entries[member].summary
        }
        return MergedEntry(
            id: stableID(sources[0]), category: first.category, code: code, date: date ?? first.date,
            summary: summary, status: status, value: value, dose: dose, administered: first.administered,
            sources: sources, sourceSummaries: sourceSummaries)
    }

    /// How much a line says: its letters and digits, counted as UTF-8 bytes (anything beyond ASCII counts).
    static func detail(of text: String) -> Int {
        var count = 0
        for byte in text.utf8 {
            let isLetter = (0x61...0x7A).contains(byte | 0x20)  // a–z, A–Z
            if byte >= 0x80 || isLetter || (0x30...0x39).contains(byte) { count += 1 }
        }
        return count
    }

    /// Flags merged entries that are the same concept but disagree where it matters: dose or status for medicines
    /// (for doses given, at the same time), value for results taken at the same time. Returns how many entries were flagged.
    private static func flagConflicts(_ merged: inout [MergedEntry]) -> Int {
        var byConcept: [ConceptKey: [Int]] = [:]
        for (index, entry) in merged.enumerated()
        where entry.category == .medication || entry.category == .testResult || entry.category == .observation {
            let key = ConceptKey(
                category: entry.category, code: entry.code, date: entry.date, summary: entry.summary,
                administered: entry.administered)
            byConcept[key, default: []].append(index)
        }
        var flagged = 0
        for indices in byConcept.values where indices.count > 1 {
            let isMedication = merged[indices[0]].category == .medication
            for index in indices {
                let others = indices.filter { $0 != index }
                // A medicine kept apart only by its status (ended on one list, current on another) conflicts on
                // status; on dose whenever another's dose differs.
                let dose = Normalise.text(merged[index].dose ?? "")
                let field =
                    !isMedication ? "value"
                    : others.contains { Normalise.text(merged[$0].dose ?? "") != dose } ? "dose" : "status"
                merged[index].conflict = Conflict(field: field, with: others.map { merged[$0].id }.sorted())
                flagged += 1
            }
        }
        return flagged
    }

    /// Newest first; undated last; ties by category, then id. The entries are put in order through their
    /// positions and plain sort keys: sorting the entries themselves copied (retained) every field of one at each
    /// comparison.
    private static func newestFirst(_ merged: [MergedEntry]) -> [MergedEntry] {
        let keys = merged.map { entry in
            SortKey(dated: entry.date != nil, time: entry.date?.sortKey ?? 0, category: entry.category)
        }
        let ids = merged.map(\.id)
        var order = Array(merged.indices)
        order.sort { left, right in
            let (lhs, rhs) = (keys[left], keys[right])
            if lhs.dated != rhs.dated { return lhs.dated }
            if lhs.dated && lhs.time != rhs.time { return lhs.time > rhs.time }
            if lhs.category != rhs.category { return lhs.category < rhs.category }
            return ids[left] < ids[right]
        }
        return order.map { merged[$0] }
    }

    private struct SortKey {
        var dated: Bool
        var time: Int64
        var category: EntryCategory
    }

    /// A short id for a merged entry, stable across requests: a hash of its first source. 64-bit FNV-1a.
    static func stableID(_ source: SourceReference) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        for byte in source.provider.rawValue.utf8 { add(byte) }
        add(0)
        for byte in source.id.utf8 { add(byte) }
        // "e" and sixteen hex digits, zero-padded.
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 17) { buffer in
            buffer[0] = UInt8(ascii: "e")
            for position in 0..<16 { buffer[16 - position] = digits[Int((hash >> (4 * UInt64(position))) & 0xF)] }
            return 17
        }
    }
}

/// A shared identifier within a category; like `MatchKey`, only between statements of the same standing.
private struct IdentifierKey: Hashable {
    var category: EntryCategory
    var identifier: EntryIdentifier
    var standing: CareEntry.Standing
}

/// Disjoint sets with path halving and union by size.
private struct UnionFind {
    private var parent: [Int]
    private var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = Array(repeating: 1, count: count)
    }

    mutating func find(_ element: Int) -> Int {
        var element = element
        while parent[element] != element {
            parent[element] = parent[parent[element]]
            element = parent[element]
        }
        return element
    }

    mutating func union(_ a: Int, _ b: Int) {
        var a = find(a)
        var b = find(b)
        guard a != b else { return }
        if size[a] < size[b] { swap(&a, &b) }
        parent[b] = a
        size[a] += size[b]
    }
}
