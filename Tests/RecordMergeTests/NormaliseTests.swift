import Testing

@testable import RecordMerge

@Suite struct NormaliseTests {
    /// The ASCII fast path must fold exactly as the Unicode path does, or matching would depend on the route taken.
    @Test func theASCIIPathFoldsExactlyAsTheUnicodePath() {
        var samples = [
            "", " ", "Amoxicillin 500mg capsules", "  AMOXICILLIN   500 MG\tcapsules. ", "Penicillin...", "a\r\nb",
            "x\u{0B}y\u{0C}z", "...", " . ", "Mixed CASE\nlines\n\n", "HbA1c 48 mmol/mol", "tab\tend\t",
        ]
        // Every ASCII character, alone and between letters.
        for byte in 0..<0x80 {
            let character = String(UnicodeScalar(UInt8(byte)))
            samples += [character, "A\(character)b", "\(character) Z \(character)"]
        }
        for sample in samples {
            #expect(Normalise.asciiText(sample) == Normalise.unicodeText(sample), "\(Array(sample.utf8))")
        }
        #expect(Normalise.text("  Amoxicillin\t500MG. ") == "amoxicillin 500mg")
        #expect(Normalise.text("Ibuprofène  FORTE") == "ibuprofène forte", "non-ASCII text takes the Unicode path")
    }
}
