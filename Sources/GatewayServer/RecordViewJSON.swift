import CareRecords
import FHIRExport

/// The record view as JSON, written directly: the same document `JSONEncoder` with sorted keys and unescaped slashes
/// produces (keys in sorted order, absent optionals left out), without the `Encodable` machinery, which profiling
/// showed was the largest single cost of a records query (13 % of the gateway's CPU at 130 queries/s, more than
/// decoding any provider's XML). A test holds the two to the same bytes.
extension RecordView {
    public func jsonBytes() -> [UInt8] {
        var output = JSONOutput(reservingCapacity: 512 + entries.count * 320)
        output.byte("{")
        if let breakGlass {
            output.key("breakGlass")
            output.boolean(breakGlass)
            output.byte(",")
        }
        output.key("complete")
        output.boolean(complete)
        output.raw(",\"entries\":[")
        for (index, entry) in entries.enumerated() {
            if index > 0 { output.byte(",") }
            Self.write(entry, to: &output)
        }
        output.raw("],\"patient\":{\"nhsNumber\":")
        output.string(patient.nhsNumber)
        output.raw("},\"providers\":[")
        for (index, provider) in providers.enumerated() {
            if index > 0 { output.byte(",") }
            output.raw("{\"entries\":")
            output.integer(provider.entries)
            if let error = provider.error {
                output.raw(",\"error\":")
                output.string(error)
            }
            output.raw(",\"id\":")
            output.string(provider.id)
            output.raw(",\"kind\":")
            output.string(provider.kind)
            output.raw(",\"latencyMs\":")
            output.integer(provider.latencyMs)
            output.raw(",\"status\":")
            output.string(provider.status)
            output.byte("}")
        }
        output.raw("],\"withheld\":")
        output.integer(withheld)
        output.byte("}")
        return output.bytes
    }

    /// One merged entry: administered (only when true), category, code, conflict, date, dose, id, sources, status,
    /// summary, value.
    private static func write(_ entry: MergedEntry, to output: inout JSONOutput) {
        output.raw(entry.administered ? "{\"administered\":true,\"category\":" : "{\"category\":")
        output.string(entry.category.rawValue)
        if let code = entry.code {
            output.raw(",\"code\":{")
            var first = true
            for (key, value) in [("code", code.code), ("display", code.display), ("system", code.system)] {
                guard let value else { continue }
                if !first { output.byte(",") }
                first = false
                output.key(key)
                output.string(value)
            }
            output.byte("}")
        }
        if let conflict = entry.conflict {
            output.raw(",\"conflict\":{\"field\":")
            output.string(conflict.field)
            output.raw(",\"with\":[")
            for (index, other) in conflict.with.enumerated() {
                if index > 0 { output.byte(",") }
                output.string(other)
            }
            output.raw("]}")
        }
        if let date = entry.date {
            output.raw(",\"date\":")
            output.string(date.text)
        }
        if let dose = entry.dose {
            output.raw(",\"dose\":")
            output.string(dose)
        }
        output.raw(",\"id\":")
        output.string(entry.id)
        output.raw(",\"sources\":[")
        for (index, source) in entry.sources.enumerated() {
            if index > 0 { output.byte(",") }
            output.raw("{\"id\":")
            output.string(source.id)
            output.raw(",\"provider\":")
            output.string(source.provider.rawValue)
            if let summary = entry.sourceSummaries[source] {
                output.raw(",\"summary\":")
                output.string(summary)
            }
            output.byte("}")
        }
        output.byte("]")
        if let status = entry.status {
            output.raw(",\"status\":")
            output.string(status)
        }
        output.raw(",\"summary\":")
        output.string(entry.summary)
        if let value = entry.value {
            output.raw(",\"value\":{")
            if let unit = value.unit {
                output.key("unit")
                output.string(unit)
                output.byte(",")
            }
            output.key("value")
            output.string(value.value)
            output.byte("}")
        }
        output.byte("}")
    }
}
