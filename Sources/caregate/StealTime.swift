import Foundation

/// How much of this machine's CPU time the hypervisor gave to other guests (steal time, from `/proc/stat`)
/// between two readings. On a shared VM every benchmark figure moves with it, so each row reports its own.
struct StealTime {
    private let steal: UInt64
    private let total: UInt64

    /// Now; nil where `/proc/stat` cannot be read (not Linux).
    static func now() -> StealTime? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return StealTime(procStat: text)
    }

    /// From the `cpu` line of `/proc/stat`: user, nice, system, idle, iowait, irq, softirq, steal (in ticks).
    init?(procStat text: String) {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard ticks.count == 8 else { return nil }
        steal = ticks[7]
        total = ticks.reduce(0, +)
    }

    /// The share of CPU time stolen from `earlier` to `later`, as "1.2 %"; "—" when it cannot be told.
    static func share(from earlier: StealTime?, to later: StealTime?) -> String {
        guard let earlier, let later, later.total > earlier.total, later.steal >= earlier.steal else { return "—" }
        return String(format: "%.1f %%", Double(later.steal - earlier.steal) / Double(later.total - earlier.total) * 100)
    }
}
