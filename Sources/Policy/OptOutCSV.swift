import CareRecords

/// Reads an opt-out import file (`caregate opt-out import FILE.csv`).
///
/// Either one NHS number per line, or CSV with a header row naming an `nhs_number` column (other columns
/// are ignored). With one column the header is optional. Blank lines and lines starting with `#` are
/// skipped; fields may be double-quoted; CRLF line ends and a UTF-8 byte-order mark are accepted.
public enum OptOutCSV {
    /// The NHS numbers in `text`, first occurrence order, duplicates dropped.
    ///
    /// - Throws: ``OptOutCSVError`` for the first bad line, naming its line number and the problem.
    public static func parse(_ text: String) throws(OptOutCSVError) -> [NHSNumber] {
        var numbers: [NHSNumber] = []
        var seen: Set<NHSNumber> = []
        var column: (index: Int, width: Int)?
        var sawFirstRow = false

        let body = text.hasPrefix("\u{FEFF}") ? Substring(text.dropFirst()) : Substring(text)
        for (offset, rawLine) in body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let lineNumber = offset + 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }

            let fields = try splitFields(line, lineNumber: lineNumber)
            if !sawFirstRow {
                sawFirstRow = true
                if let index = fields.firstIndex(where: { $0.lowercased() == "nhs_number" }) {
                    column = (index, fields.count)
                    continue
                }
                if fields.count > 1 {
                    throw OptOutCSVError(line: lineNumber, problem: "several columns but no header naming an nhs_number column")
                }
            }

            let field: String
            if let column {
                guard column.index < fields.count else {
                    throw OptOutCSVError(line: lineNumber, problem: "no nhs_number field: \(fields.count) fields, the header has \(column.width)")
                }
                field = fields[column.index]
            } else {
                guard fields.count == 1 else {
                    throw OptOutCSVError(line: lineNumber, problem: "expected one NHS number, found \(fields.count) fields")
                }
                field = fields[0]
            }
            guard !field.isEmpty else { throw OptOutCSVError(line: lineNumber, problem: "the NHS number is empty") }

            let number: NHSNumber
            do throws(NHSNumberError) {
                number = try NHSNumber(field)
            } catch {
                throw OptOutCSVError(line: lineNumber, problem: error.description)
            }
            if seen.insert(number).inserted { numbers.append(number) }
        }
        return numbers
    }

    /// Comma-separated fields, each trimmed; `"…"` quoting with `""` for a quote. No multi-line fields.
    private static func splitFields(_ line: Substring, lineNumber: Int) throws(OptOutCSVError) -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var wasQuoted = false
        var characters = line.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if inQuotes {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" { current.append("\"") } else { inQuotes = false; pending = next }
                } else {
                    current.append(character)
                }
            } else if character == "," {
                fields.append(wasQuoted ? current : String(Substring(current).trimmingWhitespace()))
                current = ""
                wasQuoted = false
            } else if character == "\"" && Substring(current).trimmingWhitespace().isEmpty {
                current = ""
                inQuotes = true
                wasQuoted = true
            } else {
                current.append(character)
            }
        }
        guard !inQuotes else { throw OptOutCSVError(line: lineNumber, problem: "a quoted field is not closed") }
        fields.append(wasQuoted ? current : String(Substring(current).trimmingWhitespace()))
        return fields
    }
}

/// Why an import file was rejected. The description names the line and the problem, never the line's
/// content, so it is safe to print and log.
public struct OptOutCSVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number in the file.
    public var line: Int
    public var problem: String

    public var description: String { "line \(line): \(problem)" }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
