import CareRecords

/// Turns one provider response body into normalised care entries.
///
/// Decoders are pure and do no I/O, so the same decoder value can serve every request concurrently and be
/// tested on fixtures alone. A decoder throws only when the document as a whole cannot be read; a single
/// part it cannot read is left out and counted in `DecodedRecord.unreadable`, so one bad resource never
/// hides the rest of a patient's record.
public protocol RecordDecoder: Sendable {
    /// Pure: bytes in, entries out. Each entry's source is (provider, the provider's own id for it).
    func decode(_ body: [UInt8], from provider: ProviderID) throws(DecodeError) -> DecodedRecord
}
