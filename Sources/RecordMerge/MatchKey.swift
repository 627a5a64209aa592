import CareRecords

/// What makes two entries from different providers the same fact, per category (DESIGN.md, "Merge and
/// de-duplication"): the coded concept plus what matters clinically for that category.
///
/// - medication: the medicine, its dose (the same drug at another dose is a near-match, not a duplicate) and
///   whether its source says it has ended (`MedicationStatus`); a dose given (`administered`) its time instead,
///   and it never matches a medicine the patient is on
/// - allergy: the substance
/// - test-result, observation: the test, its value and unit, and when it was taken
/// - appointment, encounter: the code and the time; given only a day, the day and the title
/// - document, care-plan: the code, the time (or the day) and the title
/// - condition, immunisation: the concept and the day
///
/// Appointments, encounters, documents and care plans are coded by kind — a GP appointment, a consult note, "care
/// plan" — not by the fact: a trust's care programme plan and its crisis plan, written the same day under the same
/// code, are two plans, and merging them would hide the one an A&E clinician at night most needs. A visit is told
/// apart by its time; its title is each system's own wording (a trust's FHIR encounter and the same encounter in its
/// CDA letter are titled differently), so it is compared only when there is no time. A document or a plan is told
/// apart by its title.
///
/// Entries without a code fall back to their summary text and day, which only matches what is written alike.
///
/// Only statements of the same standing match (`CareEntry.Standing`). One its source has withdrawn (entered in
/// error, refuted) says something about that source's record, not about the patient: merged with another source's
/// penicillin allergy, it would lend that allergy its `entered-in-error` status whenever it came first. A vaccine
/// not given on a day is not the same fact as one given that day.
struct MatchKey: Hashable {
    var category: EntryCategory
    var concept: String
    var qualifier: String
    var standing: CareEntry.Standing
    var administered: Bool
    /// A medicine on a list that its source says has ended; false for anything else.
    var ended: Bool

    init(_ entry: CareEntry) {
        category = entry.category
        standing = entry.standing
        administered = entry.administered
        ended = entry.category == .medication && !entry.administered && MedicationStatus.hasEnded(entry.status)
        concept = ConceptKey.concept(code: entry.code, summary: entry.summary)
        switch entry.category {
        case .medication:
            qualifier = entry.administered
                ? ConceptKey.time(entry.date) + "|" + Normalise.text(entry.dose ?? "")
                : Normalise.text(entry.dose ?? "")
        case .allergy:
            qualifier = ""
        case .testResult, .observation:
            qualifier = ConceptKey.time(entry.date) + "|" + Normalise.quantity(entry.value)
        case .appointment, .encounter, .document, .carePlan:
            let isVisit = entry.category == .appointment || entry.category == .encounter
            qualifier = isVisit && entry.date?.precision == .time
                ? ConceptKey.time(entry.date) : ConceptKey.time(entry.date) + "|" + Normalise.text(entry.summary)
        case .condition, .immunisation:
            qualifier = entry.date?.day ?? entry.date?.text ?? ""
        }
    }
}

/// Whether a medicine is still taken, as its source says. A GP who stopped ramipril last week and a discharge
/// summary that listed it as active in the spring are not one fact: merged, "active" won, and the view said the
/// patient was on a medicine the GP had stopped. Kept apart, each is flagged as a status conflict with the other.
enum MedicationStatus {
    /// True for a status saying the medicine is no longer taken: FHIR's `completed`, `stopped`, `cancelled`,
    /// `not-taken`, CDA's `aborted`, and the words bespoke systems use for them (`discontinued`, `ended`,
    /// `inactive`, `finished`) — as codes, which every entry's status is (`CareEntry.statusCode`: "Not taken" is
    /// `not-taken`). Anything else — `active`, `on-hold`, `intended`, no status at all — is current: a medicine
    /// listed without a status is taken to be one the patient is on.
    static func hasEnded(_ status: String?) -> Bool {
        switch status {
        case "completed", "complete", "stopped", "cancelled", "canceled", "not-taken", "aborted", "discontinued",
            "ended", "inactive", "finished":
            true
        default:
            false
        }
    }
}

/// The concept part of a match, used also to find near-matches that disagree.
struct ConceptKey: Hashable {
    var category: EntryCategory
    var concept: String
    /// For results and doses given, the time: the same test at the same time with another value is a conflict,
    /// as is the same medicine given at the same time at another dose; at another time it is simply another.
    var time: String
    /// A dose given never conflicts with a medicine the patient is on.
    var administered: Bool

    /// From an entry's parts (a merged entry's, when looking for near-matches).
    init(category: EntryCategory, code: Coding?, date: ClinicalDate?, summary: String, administered: Bool) {
        self.category = category
        self.administered = administered
        concept = Self.concept(code: code, summary: summary)
        let timed = category == .testResult || category == .observation || administered
        time = timed ? Self.time(date) : ""
    }

    static func concept(code: Coding?, summary: String) -> String {
        if let value = code?.code, !value.isEmpty {
            return (code?.system ?? "") + "|" + value
        }
        return "text|" + Normalise.text(code?.display ?? summary)
    }

    static func time(_ date: ClinicalDate?) -> String {
        guard let date else { return "" }
        return date.precision == .time ? String(date.sortKey) : (date.day ?? date.text)
    }
}

enum Normalise {
    /// Lower case, single spaces, no trailing full stop: "One tablet  daily." ≡ "one tablet daily".
    static func text(_ text: String) -> String {
        // Most text is ASCII: the same folding on bytes, without Unicode case mapping or grapheme breaking
        // (for ASCII, Character.isWhitespace is exactly tab, LF, VT, FF, CR and space).
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiText(text) }
        return unicodeText(text)
    }

    static func asciiText(_ text: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            if byte == 0x20 || (0x09...0x0D).contains(byte) {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.append(0x20)
                pendingSpace = false
            }
            result.append((0x41...0x5A).contains(byte) ? byte + 0x20 : byte)
        }
        while result.last == UInt8(ascii: ".") { result.removeLast() }
        return String(decoding: result, as: UTF8.self)
    }

    static func unicodeText(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for character in text.lowercased() {
            if character.isWhitespace {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.append(" ")
                pendingSpace = false
            }
            result.append(character)
        }
        while result.last == "." { result.removeLast() }
        return result
    }

    /// A decimal in canonical text (`5.00` → `5`, `+0.50` → `0.5`) with its unit, so values compare numerically.
    static func quantity(_ quantity: Quantity?) -> String {
        guard let quantity else { return "" }
        return decimal(quantity.value) + " " + text(quantity.unit ?? "")
    }

    static func decimal(_ text: String) -> String {
        var digits = Substring(text.trimmingCharacters(in: " "))
        var negative = false
        if digits.first == "+" { digits = digits.dropFirst() } else if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            digits.filter({ $0 == "." }).count <= 1
        else { return Self.text(text) }
        var integer = digits.prefix { $0 != "." }
        var fraction = digits.drop { $0 != "." }.dropFirst()
        while integer.count > 1, integer.first == "0" { integer = integer.dropFirst() }
        if integer.isEmpty { integer = "0" }
        while fraction.last == "0" { fraction = fraction.dropLast() }
        let body = fraction.isEmpty ? String(integer) : "\(integer).\(fraction)"
        return negative && body != "0" ? "-" + body : body
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var slice = Substring(self)
        while slice.first == character { slice = slice.dropFirst() }
        while slice.last == character { slice = slice.dropLast() }
        return slice
    }
}
