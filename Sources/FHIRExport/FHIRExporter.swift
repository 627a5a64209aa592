import CareRecords

/// Turns CareGate's merged view into FHIR R4 resources. Pure: no I/O, no clock, nothing kept.
///
/// Every clinical resource says where it came from (see `Provenance`), refers to its patient both by
/// `Patient/<NHS number>` and by the NHS number identifier, and carries the values R4 requires, mapping the
/// provider's status text into each resource's value set.
public struct FHIRExporter: Sendable {
    /// The FHIR base the client used, without a trailing slash (for `fullUrl` and links).
    public let baseURL: String

    /// - Parameter baseURL: e.g. `http://127.0.0.1:8080/fhir`; a trailing slash is dropped.
    public init(baseURL: String) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
    }

    /// CareGate's own URLs in exported resources.
    public enum Provenance {
        /// `meta.source` is this followed by the first source's provider id.
        public static let sourcePrefix = "https://caregate.example/provider/"
        /// One per source: nested extensions `provider`, `id` and `summary`, that source's own line (all valueString).
        public static let sourceExtension = CareGateFHIRProfile.sourceExtension
        /// On an entry that disagrees with others: nested `field` (valueString) and one `with` (valueString,
        /// the other resource's id) per other entry.
        public static let conflictExtension = CareGateFHIRProfile.conflictExtension
        /// On a medication that is a dose given: valueBoolean true.
        public static let administeredExtension = CareGateFHIRProfile.administeredExtension
    }

    /// The NHS number identifier system.
    public static let nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
    /// The code system of CareGate's error codes (`OperationOutcome.issue.details.coding`).
    public static let errorCodeSystem = "https://caregate.example/CodeSystem/error"
    /// The code system of a provider's outcome (`timeout`, `error`, …) in a Bundle's notices.
    public static let providerStatusCodeSystem = CareGateFHIRProfile.providerStatusCodeSystem

    /// The id an entry's resource has: its merged id when FHIR allows it, else a deterministic valid one.
    public static func resourceID(for entryID: String) -> String { FHIRPrimitive.id(entryID) }

    /// `<base>/<Type>/<id>`.
    public func fullURL(_ resource: FHIRResource) -> String? {
        resource.id.map { "\(baseURL)/\(resource.resourceType)/\($0)" }
    }

    // MARK: - Shared pieces

    /// `meta.source` and the provenance extensions, which come first in every clinical resource (DomainResource
    /// puts `meta` right after `id` and `extension` before any of the resource's own elements).
    func provenance(_ entry: MergedEntry, into resource: inout FHIRElementBuilder) {
        provenance(
            sources: entry.sources, summary: { entry.sourceSummaries[$0] ?? entry.summary }, conflict: entry.conflict,
            into: &resource)
        if entry.administered {
            resource.repeating("extension", url: Provenance.administeredExtension) { $0.boolean("valueBoolean", true) }
        }
    }

    /// `summary`, when given, is each source's own line, written as that source's nested `summary`: a gateway
    /// reading the resource (federation) merges the sources again from their own lines, as this view did.
    func provenance(
        sources: [SourceReference], summary: ((SourceReference) -> String)? = nil, conflict: Conflict?,
        into resource: inout FHIRElementBuilder
    ) {
        if let first = sources.first {
            resource.element("meta") { meta in meta.uri("source", Provenance.sourcePrefix + first.provider.rawValue) }
        }
        for source in sources {
            resource.repeating("extension", url: Provenance.sourceExtension) { extensionElement in
                extensionElement.repeating("extension", url: "provider") { $0.string("valueString", source.provider.rawValue) }
                extensionElement.repeating("extension", url: "id") { $0.string("valueString", source.id) }
                if let line = summary?(source) {
                    extensionElement.repeating("extension", url: "summary") { $0.string("valueString", line) }
                }
            }
        }
        if let conflict {
            resource.repeating("extension", url: Provenance.conflictExtension) { extensionElement in
                extensionElement.repeating("extension", url: "field") { $0.string("valueString", conflict.field) }
                for other in conflict.with {
                    extensionElement.repeating("extension", url: "with") {
                        $0.string("valueString", FHIRPrimitive.id(other))
                    }
                }
            }
        }
    }

    /// `Patient/<nhs>` with the NHS number identifier, so a client can resolve it either way.
    func patientReference(_ patient: NHSNumber) -> FHIRElement? {
        FHIRElementBuilder.element { reference in
            reference.string("reference", "Patient/\(patient.digits)")
            reference.element("identifier", nhsNumberIdentifier(patient))
        }
    }

    func nhsNumberIdentifier(_ patient: NHSNumber) -> FHIRElement? {
        FHIRElementBuilder.element { identifier in
            identifier.uri("system", Self.nhsNumberSystem)
            identifier.string("value", patient.digits)
        }
    }

    /// The provider's coding (when it has one) with the entry's summary as `text`.
    func codeableConcept(_ coding: Coding?, text: String?) -> FHIRElement? {
        FHIRElementBuilder.element { concept in
            if let coding { concept.repeating("coding", self.coding(coding)) }
            concept.string("text", text)
        }
    }

    func coding(_ coding: Coding) -> FHIRElement? {
        FHIRElementBuilder.element { element in
            element.uri("system", coding.system)
            element.code("code", coding.code)
            element.string("display", coding.display)
        }
    }

    func coding(system: String, code: String, display: String? = nil) -> FHIRElement? {
        coding(Coding(system: system, code: code, display: display))
    }

    /// A CodeableConcept holding one coding from a FHIR code system.
    func concept(system: String, code: String, display: String? = nil) -> FHIRElement? {
        FHIRElementBuilder.element { $0.repeating("coding", coding(system: system, code: code, display: display)) }
    }
}
