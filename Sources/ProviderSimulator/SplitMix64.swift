import Foundation

/// The population's own pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014).
///
/// The synthetic population must be byte-for-byte the same on every machine and every Swift release, so it never
/// touches the system generator, and it draws bounded numbers with its own arithmetic rather than
/// `Int.random(in:using:)`, whose algorithm the standard library is free to change.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range`. The modulo bias is below 2^-40 for the small ranges used here, which is immaterial.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(next() % width)
    }

    /// A uniform number in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    mutating func pick<Element>(_ elements: [Element]) -> Element {
        precondition(!elements.isEmpty, "cannot pick from nothing")
        return elements[int(in: 0...(elements.count - 1))]
    }

    /// `count` distinct elements, in the order drawn.
    mutating func pick<Element>(_ count: Int, of elements: [Element]) -> [Element] {
        var remaining = elements
        var chosen: [Element] = []
        for _ in 0..<min(count, elements.count) {
            chosen.append(remaining.remove(at: int(in: 0...(remaining.count - 1))))
        }
        return chosen
    }

    /// A decimal value in `low...high` written with `decimals` places, as a lab would report it.
    mutating func decimal(_ low: Double, _ high: Double, decimals: Int) -> String {
        let scale = Double(Self.powerOfTen(decimals))
        let steps = Int(((high - low) * scale).rounded())
        let scaled = Int((low * scale).rounded()) + int(in: 0...max(0, steps))
        return Self.format(scaled: scaled, decimals: decimals)
    }

    /// Derives an independent generator, so that adding draws in one part of the population does not shift another.
    /// A whole number drawn from the log-normal distribution with this median and 99th percentile, at most `cap`.
    ///
    /// ln X is normal with μ = ln(median) and σ = ln(p99 / median) / z₀.₉₉ (z₀.₉₉ = 2.3263); the standard normal
    /// draw is Box–Muller's.
    mutating func logNormal(median: Double, p99: Double, cap: Int) -> Int {
        let sigma = log(p99 / median) / 2.326_347_874
        let u1 = max(unit(), Double.leastNonzeroMagnitude)
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * unit())
        let value = exp(log(median) + sigma * normal)
        return value >= Double(cap) ? cap : Int(value.rounded())
    }

    mutating func fork() -> SplitMix64 {
        SplitMix64(seed: next())
    }

    static func powerOfTen(_ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { value, _ in value * 10 }
    }

    /// `scaled / 10^decimals` as plain decimal text (`1234, 2` → `12.34`), without going through floating point.
    static func format(scaled: Int, decimals: Int) -> String {
        guard decimals > 0 else { return String(scaled) }
        let negative = scaled < 0
        let magnitude = abs(scaled)
        let divisor = powerOfTen(decimals)
        var fraction = String(magnitude % divisor)
        while fraction.count < decimals { fraction = "0" + fraction }
        return (negative ? "-" : "") + String(magnitude / divisor) + "." + fraction
    }
}

/// FNV-1a over UTF-8, for seeding per-provider generators from a provider's id. Stable across runs and releases,
/// unlike `Hasher`, which is randomly seeded per process.
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}
