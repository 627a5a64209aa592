import CareRecords
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import XMLSupport

/// Code systems as CDA names them (OIDs) and as the rest of CareGate spells them (FHIR URIs).
///
/// The merge matches entries across providers by system and code, so a CDA document's SNOMED CT code must
/// carry the same system as a FHIR provider's copy of the same fact.
enum CDACodeSystem {
    /// What a coded value names, where one OID means different things in different places.
    enum Context {
        case general
        /// A medicine (`manufacturedMaterial/code`): NHS CDA writes dm+d products under the NHS OID for
        /// SNOMED CT, and the FHIR providers call the same codes dm+d.
        case medicine
    }

    static let loinc = "2.16.840.1.113883.6.1"
    static let snomedCT = "2.16.840.1.113883.6.96"
    /// The NHS messaging OID for SNOMED CT, whose UK drug extension is dm+d.
    static let nhsSNOMEDCT = "2.16.840.1.113883.2.1.3.2.4.15"
    static let dmd = "1.2.826.0.1285.0.2.0.4"

    private static let uris = UTF8Table([
        (loinc, Coding.System.loinc),
        (snomedCT, Coding.System.snomedCT),
        (nhsSNOMEDCT, Coding.System.snomedCT),
        (dmd, Coding.System.dmd),
        ("2.16.840.1.113883.6.88", "http://www.nlm.nih.gov/research/umls/rxnorm"),
        ("2.16.840.1.113883.6.3", "http://hl7.org/fhir/sid/icd-10"),
        ("2.16.840.1.113883.6.90", "http://hl7.org/fhir/sid/icd-10-cm"),
        ("2.16.840.1.113883.6.12", "http://www.ama-assn.org/go/cpt"),
        ("2.16.840.1.113883.12.292", "http://hl7.org/fhir/sid/cvx"),
        ("2.16.840.1.113883.5.4", "http://terminology.hl7.org/CodeSystem/v3-ActCode"),
    ])

    /// The URI for a code system OID; an OID without a well-known URI becomes `urn:oid:<oid>`.
    static func uri(forOID oid: String, in context: Context = .general) -> String {
        var oid = oid
        return oid.withUTF8 { uri(forOID: $0, in: context) }
    }

    /// The URI for a code system OID given as UTF-8 (read in place from an attribute): a well-known one is
    /// returned without making a String of the OID.
    static func uri(forOID oid: UnsafeBufferPointer<UInt8>, in context: Context = .general) -> String {
        if context == .medicine, oid.hasSameBytes(as: nhsSNOMEDCT) { return Coding.System.dmd }
        return uris[oid] ?? "urn:oid:" + String(decoding: oid, as: UTF8.self)
    }

    /// True for the systems other providers are most likely to share, so the merge can match on them.
    static func isShared(_ system: String?) -> Bool {
        system == Coding.System.snomedCT || system == Coding.System.dmd || system == Coding.System.loinc
    }
}

extension XMLElement {
    /// Reads this CD/CE/CV element as the coding other providers are most likely to share.
    ///
    /// The element's own code comes first when it is in a national terminology (SNOMED CT, dm+d, LOINC),
    /// then a `translation` that is, then whatever code there is. A `nullFlavor`ed code counts as absent but
    /// its words still count: the display falls back from `@displayName` to `originalText` (its own words or
    /// the narrative it references), so a concept written only in words is not lost.
    func cdaCoding(in context: CDACodeSystem.Context = .general, narrative: CDANarrative? = nil) -> Coding? {
        // The element's own code and then its translations, in order: the first in a shared system, else the
        // first of all. Translations are read only while none in a shared system has been found.
        var first = ownCoding(in: context)
        var shared = first.flatMap { CDACodeSystem.isShared($0.system) ? $0 : nil }
        if shared == nil {
            for translation in cdaChildren("translation") {
                guard let coding = translation.ownCoding(in: context) else { continue }
                if first == nil { first = coding }
                if CDACodeSystem.isShared(coding.system) {
                    shared = coding
                    break
                }
            }
        }
        let chosen = shared ?? first
        let display =
            chosen?.display ?? cdaAttribute("displayName")
            ?? narrative.flatMap { $0.words(of: cda("originalText")) } ?? cda("originalText")?.plainText
        guard var coding = chosen else { return display.map { Coding(display: $0) } }
        coding.display = display
        return coding
    }

    /// This element's own code, without its translations; nil when it has no usable code.
    private func ownCoding(in context: CDACodeSystem.Context) -> Coding? {
        guard !isNullFlavored, let code = cdaAttribute("code") else { return nil }
        return Coding(
            system: withCDAAttribute("codeSystem") { CDACodeSystem.uri(forOID: $0, in: context) }, code: code,
            display: cdaAttribute("displayName"))
    }
}

/// A small table of values looked up by a key's UTF-8 bytes, as read in place from a document: no String is
/// made of the key, and none hashed. Meant for tens of entries (code systems, template ids): a lookup compares
/// lengths first, so it passes over most entries at the cost of an integer comparison.
struct UTF8Table<Value: Sendable>: Sendable {
    /// Every key's UTF-8, one after another (one array, so a lookup retains nothing per entry).
    private let bytes: [UInt8]
    /// Each key's start in `bytes` and its length, in entry order.
    private let keys: [(start: Int, count: Int)]
    private let values: [Value]

    init(_ entries: [(String, Value)]) {
        var bytes: [UInt8] = []
        var keys: [(start: Int, count: Int)] = []
        for (key, _) in entries {
            keys.append((bytes.count, key.utf8.count))
            bytes.append(contentsOf: key.utf8)
        }
        self.bytes = bytes
        self.keys = keys
        values = entries.map(\.1)
    }

    subscript(key: UnsafeBufferPointer<UInt8>) -> Value? {
        guard let wanted = key.baseAddress else { return nil }
        return bytes.withUnsafeBufferPointer { all -> Value? in
            for (index, stored) in keys.enumerated()
            where stored.count == key.count && memcmp(all.baseAddress! + stored.start, wanted, key.count) == 0 {
                return values[index]
            }
            return nil
        }
    }
}
