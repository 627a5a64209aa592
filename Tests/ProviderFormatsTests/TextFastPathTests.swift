import Testing

@testable import ProviderFormats

/// The byte-by-byte fast path for a leaf's text gives exactly what splitting into words and joining them does.
@Suite struct WhitespaceCollapsingTests {
    static let samples = [
        "", " ", "\n\t ", "Discharge summary", "  Discharge   summary  ", "Discharge\nsummary", "a\r\nb",
        "a\u{0B}b\u{0C}c", "Ladywell  Green\tMedical Practice\n", "x", " x", "x ", "ends with two  ",
        "Crème brûlée", "non\u{A0}breaking", "  ünïcödé  and  spaces ",
    ]

    @Test("collapses ASCII white space as the word split does", arguments: samples)
    func collapsesAsTheWordSplitDoes(_ text: String) {
        let expected = text.whitespaceSeparatedWords.joined(separator: " ")
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            #expect(text.collapsingASCIIWhitespace == expected)
        } else {
            // Non-ASCII text is left to the Unicode-aware split (U+00A0 is white space there).
            #expect(text.collapsingASCIIWhitespace == nil)
        }
    }
}

/// The byte-by-byte case-insensitive search gives exactly what lower-casing and searching does.
@Suite struct CaseInsensitiveSearchTests {
    static let samples = [
        "", "Allergy to penicillin", "PENICILLIN ALLERGY", "Lactose intolerance", "INTOLERANCE", "Amoxicillin",
        "allerg", "alLeRg", "aller", "Peanut — allergic reaction", "İntolerance", "Crème ALLERGY",
    ]

    @Test("matches lowercased().contains", arguments: samples)
    func matchesLowercasedContains(_ text: String) {
        for word in ["allerg", "intoleran", "a", ""] {
            #expect(text.containsIgnoringCase(word) == text.lowercased().contains(word), "\(word) in \(text)")
        }
    }
}

/// The one summary format every decoder writes: the headline, then the details present.
@Suite struct EntrySummaryTests {
    @Test(
        "headline, then the details present, joined by '; '",
        arguments: [
            (nil, nil, "Penicillin allergy"), ("reaction: Urticaria", nil, "Penicillin allergy — reaction: Urticaria"),
            (nil, "severity: Moderate", "Penicillin allergy — severity: Moderate"),
            ("reaction: Urticaria", "severity: Moderate", "Penicillin allergy — reaction: Urticaria; severity: Moderate"),
        ] as [(String?, String?, String)])
    func joinsWhatIsPresent(first: String?, second: String?, expected: String) {
        #expect(EntrySummary.text("Penicillin allergy", first, second) == expected)
    }
}
