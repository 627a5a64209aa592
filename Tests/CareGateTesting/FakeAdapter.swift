import CareRecords
import Dispatch
import Providers
import Synchronization

/// A provider that answers from memory after a delay, or fails, or never answers (ignoring cancellation, the
/// worst case for a fan-out that must not wait).
public final class FakeAdapter: ProviderAdapter {
    public enum Behaviour: Sendable {
        case answer(after: Duration, entries: Int)
        /// Answers at once with exactly these entries (their `source` is rewritten to this provider).
        case record([CareEntry])
        case fail(after: Duration, ProviderFailure)
        case hangIgnoringCancellation
    }

    public let definition: ProviderDefinition
    public let behaviour: Behaviour
    /// How many times `fetch` was called.
    public let calls: Atomic<Int>

    public init(_ id: String, timeoutMilliseconds: Int = 5_000, categories: Set<EntryCategory> = Set(EntryCategory.allCases),
         kind: ProviderKind = .gp, _ behaviour: Behaviour) {
        definition = ProviderDefinition(
            id: ProviderID(id), name: id, kind: kind, ods: "X", format: .fhirR4XML,
            urlTemplate: "http://127.0.0.1:1/{nhs}", timeoutMilliseconds: timeoutMilliseconds, categories: categories)
        self.behaviour = behaviour
        calls = Atomic(0)
    }

    /// A fake for a given definition (as a provider directory's factory makes them).
    public init(definition: ProviderDefinition, _ behaviour: Behaviour) {
        self.definition = definition
        self.behaviour = behaviour
        calls = Atomic(0)
    }

    public func fetch(_ patient: NHSNumber, deadline: ContinuousClock.Instant) async throws(ProviderFailure) -> DecodedRecord {
        calls.add(1, ordering: .relaxed)
        switch behaviour {
        case .answer(let delay, let count):
            try? await Task.sleep(for: delay)
            let entries = (0..<count).map { index in
                CareEntry(
                    category: index.isMultiple(of: 2) ? .medication : .allergy, summary: "\(definition.id) fact \(index)",
                    source: SourceReference(provider: definition.id, id: "\(index)"))
            }
            return DecodedRecord(entries: entries)
        case .record(let entries):
            return DecodedRecord(entries: entries.enumerated().map { index, entry in
                var entry = entry
                entry.source = SourceReference(provider: definition.id, id: "\(index)")
                return entry
            })
        case .fail(let delay, let failure):
            try? await Task.sleep(for: delay)
            throw failure
        case .hangIgnoringCancellation:
            // A wait that cancellation does not end; it finishes on its own long after any test's deadline.
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 10) { continuation.resume() }
            }
            return DecodedRecord()
        }
    }
}

