import Crypto
import Foundation

/// The hash chain that makes the audit trail tamper-evident.
///
/// `hash(n) = lowercase-hex(SHA-256(ascii(previousHash) || canonical(n)))`, where `previousHash` is record
/// n−1's `hash` (64 zeros for record 1) and `canonical(n)` is this module's own stable encoding — not JSON,
/// so that a Foundation upgrade cannot change it:
///
/// - the tag `caregate-audit-v1\n`, then each field in this fixed order, each followed by `\n`:
///   sequence, time (milliseconds since 1970), requestID, userID, userName, organisation, role, purpose,
///   breakGlassReason, patient (10 digits), route, decision, reason, providers, entriesPerCategory;
/// - integers in decimal; a string as `<UTF-8 byte count>:<UTF-8 bytes>`; an absent string as `-`;
/// - providers as `<count>` then, per provider in stored order, its id and status as strings;
/// - entriesPerCategory as `<count>` then, per category sorted by the UTF-8 bytes of its name, the name
///   as a string and the count as an integer;
/// - then, only for a query that came through another gateway, the line `via` and the gateway's id as a string
///   (so every record made before federation, and every one without it, hashes exactly as it always did).
///
/// The sequence is inside the hashed bytes, so a record cannot be moved to another place in the chain.
enum AuditChain {
    static let genesisHash = String(repeating: "0", count: 64)

    static func hash(sequence: Int64, record: AuditRecord, previousHash: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(previousHash.utf8))
        hasher.update(data: canonicalBytes(sequence: sequence, record: record))
        return hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    static func canonicalBytes(sequence: Int64, record: AuditRecord) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        func line(_ text: String) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        func string(_ text: String?) -> String {
            guard let text else { return "-" }
            return "\(text.utf8.count):\(text)"
        }
        line("caregate-audit-v1")
        line(String(sequence))
        line(String(record.timeMilliseconds))
        line(string(record.requestID))
        line(string(record.userID))
        line(string(record.userName))
        line(string(record.organisation))
        line(string(record.role))
        line(string(record.purpose))
        line(string(record.breakGlassReason))
        line(string(record.patient.digits))
        line(string(record.route))
        line(string(record.decision.rawValue))
        line(string(record.reason))
        line(String(record.providers.count))
        for provider in record.providers {
            line(string(provider.provider))
            line(string(provider.status))
        }
        let categories = record.entriesPerCategory.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        line(String(categories.count))
        for (category, count) in categories {
            line(string(category))
            line(String(count))
        }
        if let via = record.viaGateway {
            line("via")
            line(string(via))
        }
        return bytes
    }

    /// Links `records` onto a chain whose head is (`headSequence`, `headHash`).
    static func link(_ records: [AuditRecord], headSequence: Int64, headHash: String) -> [StoredAuditRecord] {
        var sequence = headSequence
        var previous = headHash
        return records.map { record in
            sequence += 1
            let record = record.normalised
            let hash = hash(sequence: sequence, record: record, previousHash: previous)
            defer { previous = hash }
            return StoredAuditRecord(sequence: sequence, record: record, previousHash: previous, hash: hash)
        }
    }
}

/// Walks a chain in sequence order and stops at the first record that does not hold. A value type with no I/O,
/// fed by each store's single-snapshot scan.
struct AuditChainVerifier: Sendable {
    private var expectedSequence: Int64 = 1
    private var expectedPreviousHash = AuditChain.genesisHash
    private(set) var failure: AuditVerification?

    /// Checks the next row; `row` is nil when its columns could not be read back into a record.
    mutating func check(sequence: Int64, row: StoredAuditRecord?) {
        guard failure == nil else { return }
        guard sequence == expectedSequence else {
            fail(
                expectedSequence,
                sequence > expectedSequence
                    ? "record \(expectedSequence) is missing (the next stored is \(sequence))"
                    : "record \(sequence) is out of order")
            return
        }
        guard let row else {
            fail(sequence, "the stored record cannot be read")
            return
        }
        guard row.previousHash == expectedPreviousHash else {
            fail(sequence, "its previous hash does not match record \(sequence - 1) (a record was removed or replaced)")
            return
        }
        guard AuditChain.hash(sequence: sequence, record: row.record, previousHash: row.previousHash) == row.hash else {
            fail(sequence, "its content does not match its hash (the record was edited)")
            return
        }
        expectedSequence += 1
        expectedPreviousHash = row.hash
    }

    /// Compares the end of the walk with the chain head the store keeps, which catches removal of the newest records.
    mutating func finish(headSequence: Int64, headHash: String) -> AuditVerification {
        if let failure { return failure }
        let last = expectedSequence - 1
        if headSequence > last {
            return .broken(sequence: last + 1, reason: "records \(last + 1)–\(headSequence) are missing (the chain head is at \(headSequence))")
        }
        if headSequence < last || headHash != expectedPreviousHash {
            return .broken(sequence: headSequence, reason: "the chain head does not match the stored records")
        }
        return .intact(count: last)
    }

    private mutating func fail(_ sequence: Int64, _ reason: String) {
        failure = .broken(sequence: sequence, reason: reason)
    }
}
