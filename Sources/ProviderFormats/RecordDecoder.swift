import CareRecords

/// Turns one provider response body into normalised care entries.
///
/// Decoders are pure and do no I/O, so the same decoder value can serve every request concurrently and be
/// tested on fixtures alone. A decoder throws only when the document as a whole cannot be read; a single
/// part it cannot read is left out and counted in `DecodedRecord.unreadable`, so one bad resource never
/// hides the rest of a patient's record.
public protocol RecordDecoder: Sendable {
    /// Pure: bytes in, entries out. Each entry's source is (provider, the provider's own id for it). `charset`:
    /// the one the response's `Content-Type` names, for a document that states no encoding of its own (see
    /// `TransportCharset`).
    func decode(_ body: [UInt8], charset: String?, from provider: ProviderID) throws(DecodeError) -> DecodedRecord
}

extension RecordDecoder {
    /// A document read by its own declaration, UTF-8 when it has none.
    public func decode(_ body: [UInt8], from provider: ProviderID) throws(DecodeError) -> DecodedRecord {
        try decode(body, charset: nil, from: provider)
    }
}
