import CareGateFuzzing
import CareRecords
import Foundation
import ProviderFormats
import Testing

/// Seeded random mutations of real CDA documents (byte flips, truncations, duplicated and deleted ranges,
/// spliced `<`, `&`, `<!DOCTYPE x>` …, see `SeededMutator`). Whatever a provider sends, the decoder must not
/// crash, must either decode or throw a `DecodeError`, and must never put the document's words into an error
/// description.
///
/// The run is deterministic: the same seed makes the same mutations, and a failure names the iteration. To run
/// longer, set the iteration count: `CAREGATE_FUZZ_ITERATIONS=100000 swift test --filter CDAFuzzTests`.
@Suite("CDA: fuzzing")
struct CDAFuzzTests {
    /// Mutated documents decoded per run, unless `CAREGATE_FUZZ_ITERATIONS` says otherwise.
    static let defaultIterations = 3_000
    static let seed: UInt64 = 0x0CDA_F022
    /// Words that stand for patient data in the documents. Digit-led tokens, so that no mutation can turn
    /// them into an element name (names cannot start with a digit) and from there into an error's text.
    static let marker = "7391-4488-2265 9017-3342"
    /// An unknown element carrying the marker, added after the title. libxml2's own messages quote element
    /// names (a mismatched tag), so mutations around it produce parse errors whose detail quotes the
    /// document: the run proves the description leaves that detail out.
    static let markerElement = "ZQX7391Marker"
    static let fixtures = [
        "Diagnostic_Imaging_Report_Diagnostic_Imaging_Report.xml", "SampleCDADocument.xml", "CCD_CCD_2_CCD.xml",
    ]

    static var iterations: Int {
        ProcessInfo.processInfo.environment["CAREGATE_FUZZ_ITERATIONS"] == nil
            ? defaultIterations : SeededMutator.iterations
    }

    /// The fixture with the marker as its title and as the patient's family name.
    static func seededDocument(_ fileName: String) throws -> [UInt8] {
        var text = String(decoding: try CDAFixtures.bytes(fileName), as: UTF8.self)
        for element in ["title", "family"] {
            let open = try #require(
                text.range(of: "<\(element)( [^>]*)?>", options: .regularExpression), "\(fileName) has no <\(element)>")
            let close = try #require(text.range(of: "</\(element)>", range: open.upperBound..<text.endIndex))
            text.replaceSubrange(open.upperBound..<close.lowerBound, with: marker)
        }
        let title = try #require(text.range(of: "</title>"))
        text.insert(contentsOf: "<\(markerElement)>\(marker)</\(markerElement)>", at: title.upperBound)
        return Array(text.utf8)
    }

    @Test("mutated documents decode or throw a DecodeError that quotes nothing from them")
    func mutations() throws {
        let documents = try Self.fixtures.map(Self.seededDocument)
        // The unmutated documents decode, and carry the marker where the fuzzing expects it.
        for document in documents {
            let record = try CDADecoder().decode(document, from: CDAFixtures.provider)
            #expect(record.patient?.familyName == Self.marker)
        }
        let fragments = Self.markerFragments
        let mutator = SeededMutator(seed: Self.seed)
        let decoder = CDADecoder()
        var decoded = 0
        var refused: [String: Int] = [:]
        var leaks: [String] = []
        var quotingDetails = 0
        for iteration in 0..<Self.iterations {
            let input = mutator.mutation(of: documents[iteration % documents.count], iteration: iteration)
            do {
                let record = try decoder.decode(input, from: CDAFixtures.provider)
                #expect(record.entries.allSatisfy { $0.source.provider == CDAFixtures.provider })
                decoded += 1
            } catch {
                // `decode` throws only `DecodeError` (typed throws), so `error` is one.
                refused[error.shortDescription, default: 0] += 1
                let description = error.description
                if let detail = error.xmlError?.detail, fragments.contains(where: detail.contains) {
                    quotingDetails += 1
                }
                if fragments.contains(where: description.contains) {
                    leaks.append("iteration \(iteration): \(description)")
                }
            }
        }
        #expect(leaks.isEmpty, "error descriptions quoting the document (seed \(Self.seed)): \(leaks.prefix(5))")
        // Both outcomes were exercised, and some parse errors' details did quote the document, so the run
        // tested something.
        #expect(quotingDetails > 0)
        #expect(decoded > 0)
        #expect(refused.values.reduce(0, +) > 0)
        #expect(Set(refused.keys).isSubset(of: Self.knownRefusals), "\(refused)")
    }

    static let knownRefusals: Set<String> = [
        "xml-too-large", "xml-too-deep", "xml-doctype-forbidden", "xml-invalid-encoding", "xml-malformed",
        "xml-empty", "unexpected-root",
    ]

    /// Every 6-character piece of the markers: a description holding any of them quotes the document.
    static var markerFragments: [String] {
        [marker, markerElement].flatMap { text in
            let characters = Array(text)
            return (0...(characters.count - 6)).map { String(characters[$0..<$0 + 6]) }
        }
    }
}
