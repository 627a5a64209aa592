/// Seeded random mutations of a document, for fuzz tests that run in CI in seconds and reproduce exactly.
///
/// CI runs `defaultIterations` mutations per test; set `CAREGATE_FUZZ_ITERATIONS` to run longer, e.g.
/// `CAREGATE_FUZZ_ITERATIONS=200000 swift test --filter Fuzz`. A failure names the seed and iteration, so
/// `SeededMutator(seed:).mutation(of:iteration:)` gives back the exact input.
public struct SeededMutator: Sendable {
    public static let defaultIterations = 1_000

    /// Iterations to run: `CAREGATE_FUZZ_ITERATIONS` when set, else `defaultIterations`.
    public static var iterations: Int {
        guard let text = getenv("CAREGATE_FUZZ_ITERATIONS").map({ String(cString: $0) }), let count = Int(text),
            count > 0
        else { return defaultIterations }
        return count
    }

    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// Fragments worth splicing into XML: markup that parsers and decoders must refuse or survive.
    static let fragments: [[UInt8]] = [
        "<", ">", "&", "&amp;", "&#0;", "&#xD800;", "]]>", "<![CDATA[", "<!DOCTYPE x>", "<!ENTITY e \"x\">",
        "<?xml version=\"1.0\"?>", "xmlns=\"\"", "xmlns:a=\"urn:a\"", "value=\"", "\"", "'", "\u{0}", "<a>", "</a>",
        "<!--", "-->", "&e;", "\u{FEFF}", "9999999999", "2024-13-45T99:99:99Z", "-1e309",
    ].map { Array($0.utf8) }

    /// The mutation for one iteration: one to four edits (byte flips, deletions, duplications, truncation,
    /// spliced fragments), chosen by a generator seeded with (seed, iteration).
    public func mutation(of document: [UInt8], iteration: Int) -> [UInt8] {
        var random = SplitMix(seed: seed &+ UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15)
        var bytes = document
        for _ in 0...random.below(4) {
            guard !bytes.isEmpty else { break }
            let at = random.below(bytes.count)
            switch random.below(6) {
            case 0:
                bytes[at] ^= UInt8(1 << random.below(8))
            case 1:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(64)))
            case 2:
                let end = min(bytes.count, at + 1 + random.below(256))
                bytes.insert(contentsOf: bytes[at..<end], at: random.below(bytes.count))
            case 3:
                bytes.removeSubrange(at...)
            case 4:
                bytes.insert(contentsOf: Self.fragments[random.below(Self.fragments.count)], at: at)
            default:
                bytes[at] = UInt8(truncatingIfNeeded: random.next())
            }
        }
        return bytes
    }
}

/// SplitMix64: small, fast, and the same everywhere.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
