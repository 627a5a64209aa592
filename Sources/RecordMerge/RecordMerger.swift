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
/// Matching, strongest first: a shared identifier within a category (order, accession, document id), then the
/// per-category `MatchKey`. Matches are transitive (union–find). Near-matches that disagree — the same medicine at
/// another dose, the same test at the same time with another value — stay separate and are flagged as a conflict,
/// never dropped. Every step hashes; nothing compares entries pairwise, so cost grows linearly with the input.
public enum RecordMerger {
    public static func merge(_ entries: [CareEntry]) -> MergeResult {
        var groups = UnionFind(count: entries.count)
        var firstByIdentifier: [IdentifierKey: Int] = [:]
        var firstByMatch: [MatchKey: Int] = [:]
        firstByMatch.reserveCapacity(entries.count)

        for (index, entry) in entries.enumerated() {
            for identifier in entry.identifiers {
                let key = IdentifierKey(category: entry.category, identifier: identifier)
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

        // Members of each group, in input order (the first member is the group's representative).
        var memberLists: [[Int]] = []
        var listIndexByRoot: [Int: Int] = [:]
        for index in entries.indices {
            let root = groups.find(index)
            if let list = listIndexByRoot[root] {
                memberLists[list].append(index)
            } else {
                listIndexByRoot[root] = memberLists.count
                memberLists.append([index])
            }
        }

        var merged = memberLists.map { members in mergedEntry(members.map { entries[$0] }) }
        let conflicts = flagConflicts(&merged)
        merged.sort(by: newestFirst)
        return MergeResult(
            entries: merged, duplicatesCollapsed: entries.count - merged.count, conflicts: conflicts)
    }

    private static func mergedEntry(_ members: [CareEntry]) -> MergedEntry {
        let first = members[0]
        var sources = Array(Set(members.map(\.source))).sorted()
        if sources.isEmpty { sources = [first.source] }
        // The most precise date any source gave, so a day-precision copy does not hide another's time.
        let date = members.compactMap(\.date).max { $0.precision < $1.precision }
        return MergedEntry(
            id: stableID(sources[0]), category: first.category,
            code: first.code ?? members.lazy.compactMap(\.code).first, date: date ?? first.date,
            summary: first.summary, status: first.status ?? members.lazy.compactMap(\.status).first,
            value: first.value ?? members.lazy.compactMap(\.value).first,
            dose: first.dose ?? members.lazy.compactMap(\.dose).first, sources: sources)
    }

    /// Flags merged entries that are the same concept but disagree where it matters: dose for medicines,
    /// value for results taken at the same time. Returns how many entries were flagged.
    private static func flagConflicts(_ merged: inout [MergedEntry]) -> Int {
        var byConcept: [ConceptKey: [Int]] = [:]
        for (index, entry) in merged.enumerated()
        where entry.category == .medication || entry.category == .testResult || entry.category == .observation {
            let probe = CareEntry(
                category: entry.category, code: entry.code, date: entry.date, summary: entry.summary,
                source: entry.sources[0])
            byConcept[ConceptKey(probe), default: []].append(index)
        }
        var flagged = 0
        for indices in byConcept.values where indices.count > 1 {
            let field = merged[indices[0]].category == .medication ? "dose" : "value"
            for index in indices {
                let others = indices.filter { $0 != index }.map { merged[$0].id }.sorted()
                merged[index].conflict = Conflict(field: field, with: others)
                flagged += 1
            }
        }
        return flagged
    }

    private static func newestFirst(_ lhs: MergedEntry, _ rhs: MergedEntry) -> Bool {
        switch (lhs.date, rhs.date) {
        case let (l?, r?) where l.sortKey != r.sortKey: return l.sortKey > r.sortKey
        case (.some, nil): return true
        case (nil, .some): return false
        default: return (lhs.category, lhs.id) < (rhs.category, rhs.id)
        }
    }

    /// A short id for a merged entry, stable across requests: a hash of its first source. 64-bit FNV-1a.
    static func stableID(_ source: SourceReference) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in source.provider.rawValue.utf8 + [0] + source.id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "e" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

private struct IdentifierKey: Hashable {
    var category: EntryCategory
    var identifier: EntryIdentifier
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
