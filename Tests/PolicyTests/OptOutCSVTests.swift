import CareGateTesting
import CareRecords
import Policy
import Testing

@Suite("Opt-out CSV import")
struct OptOutCSVTests {
    let numbers = syntheticNHSNumbers(3)

    @Test("one number per line, blank lines, comments, CRLF and grouped digits")
    func plainList() throws {
        let grouped = numbers[1].digits.enumerated().map { $0.offset == 3 || $0.offset == 6 ? " \($0.element)" : "\($0.element)" }.joined()
        let text = "\u{FEFF}# opt-outs from the GP practice\r\n\(numbers[0].digits)\r\n\r\n  \(grouped)  \r\n# end\n\(numbers[2].digits)"
        #expect(try OptOutCSV.parse(text) == numbers)
    }

    @Test("a single nhs_number column with its header")
    func singleColumnWithHeader() throws {
        #expect(try OptOutCSV.parse("nhs_number\n\(numbers[0].digits)\n\(numbers[1].digits)\n") == Array(numbers.prefix(2)))
    }

    @Test("the nhs_number column among others, quoted fields")
    func namedColumn() throws {
        let text = """
            received,NHS_Number,source
            2026-11-01,\(numbers[0].digits),"letter, signed"
            2026-11-02,"\(numbers[1].digits)",phone
            """
        #expect(try OptOutCSV.parse(text) == Array(numbers.prefix(2)))
    }

    @Test("duplicates are dropped, order kept")
    func duplicates() throws {
        let text = [numbers[1], numbers[0], numbers[1]].map(\.digits).joined(separator: "\n")
        #expect(try OptOutCSV.parse(text) == [numbers[1], numbers[0]])
    }

    @Test("an empty file or one with only comments has no numbers")
    func empty() throws {
        #expect(try OptOutCSV.parse("").isEmpty)
        #expect(try OptOutCSV.parse("# nothing\n\n").isEmpty)
        #expect(try OptOutCSV.parse("nhs_number\n").isEmpty)
    }

    @Test("a wrong check digit names the line, not the number")
    func badCheckDigit() throws {
        var bad = numbers[1].digits
        let last = bad.removeLast()
        bad.append(last == "9" ? "0" : Character(String(last.wholeNumberValue! + 1)))
        let text = "# header comment\n\(numbers[0].digits)\n\n\(bad)\n"
        let error = #expect(throws: OptOutCSVError.self) { try OptOutCSV.parse(text) }
        #expect(error?.line == 4)
        #expect(error?.description.hasPrefix("line 4: ") == true)
        #expect(error?.description.contains("check digit") == true)
        #expect(error?.description.contains(bad) == false)
    }

    @Test("problems are reported by line", arguments: [
        ("\(syntheticNHSNumbers(1)[0].digits)\n12345\n", 2, "10 digits"),
        ("nhs_number,name\n999000001X,x\n", 2, "only digits"),
        ("nhs_number,source\n,phone\n", 2, "empty"),
        ("source,nhs_number\nphone\n", 2, "no nhs_number field"),
        ("a,b\n", 1, "no header"),
        ("nhs_number\n\"9990000018\n", 2, "not closed"),
    ])
    func problems(text: String, line: Int, problem: String) throws {
        let error = #expect(throws: OptOutCSVError.self) { try OptOutCSV.parse(text) }
        #expect(error?.line == line)
        #expect(error?.problem.contains(problem) == true, "\(String(describing: error))")
    }
}
