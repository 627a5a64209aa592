import CareRecords
import XMLSupport

/// Decodes FHIR R4 XML: a Bundle (normally a `searchset`, but any type is read) or a single resource.
///
/// Read as a tolerant reader: unknown elements and unsupported resource types are ignored, a supported
/// resource yields whatever it offers, and a resource that offers nothing is counted in `unreadable`
/// instead of failing the response. Only a document that is not FHIR XML at all throws.
///
/// References are resolved within the document only (`contained` resources and other Bundle entries).
/// XHTML narratives are skipped while parsing: the gateway shows structured data, not provider HTML.
public struct FHIRR4XMLDecoder: RecordDecoder {
    /// The FHIR namespace every element of a FHIR XML document is in.
    public static let namespace = "http://hl7.org/fhir"

    private static let xhtmlNamespace = "http://www.w3.org/1999/xhtml"

    /// What the readers look at, so that only that is built (see `XMLReadScope`): every FHIR primitive is a
    /// `value` attribute, so no element text is read; XHTML narratives are skipped; a Bundle entry's or a
    /// `contained` resource of any type is kept (an unsupported type is then counted as ignored, not lost),
    /// and below it only the elements some reader names.
    ///
    /// **A reader that reads a new element must add its name here**, or it reads as absent.
    /// `FHIRDecoderScopeTests` decodes the reference and simulated documents both ways and holds them equal.
    public static let scope = XMLReadScope(
        skippedNamespaces: [xhtmlNamespace], elements: Set(readElements),
        elementsWithAnyChild: ["resource", "contained"], attributes: ["value"], text: false)

    /// `scope`, and CareGate's own provenance and provider outcomes, for another CareGate gateway's answer.
    public static let gatewayScope = XMLReadScope(
        skippedNamespaces: [xhtmlNamespace], elements: Set(readElements + ["extension", "issue", "details"]),
        elementsWithAnyChild: ["resource", "contained"], attributes: ["value", "url"], text: false)

    private static let readElements = [
            // Bundle and the datatypes every reader shares (Coding, CodeableConcept, Identifier, Quantity,
            // Period, Reference, HumanName).
            "entry", "fullUrl", "resource", "contained", "id", "identifier", "system", "value", "code", "coding",
            "display", "text", "unit", "start", "reference", "use", "type", "status", "category",
            // Patient.
            "name", "family", "given", "birthDate", "gender",
            // AllergyIntolerance, Condition, Immunization, CarePlan.
            "clinicalStatus", "verificationStatus", "reaction", "manifestation", "criticality", "recordedDate",
            "onsetDateTime", "onsetPeriod", "vaccineCode", "protocolApplied", "doseNumberPositiveInt",
            "doseNumberString", "occurrenceDateTime", "statusReason", "period", "created", "title", "description",
            // MedicationStatement, MedicationRequest, MedicationDispense, MedicationAdministration.
            "medicationCodeableConcept", "medicationReference", "dosage", "dosageInstruction", "authoredOn",
            "dateAsserted", "effectiveDateTime", "effectivePeriod", "reasonCode", "dose", "route", "quantity",
            "daysSupply", "whenHandedOver", "whenPrepared",
            // Observation, DiagnosticReport.
            "valueQuantity", "valueCodeableConcept", "valueBoolean", "valueString", "valueInteger", "component",
            "dataAbsentReason", "effectiveInstant", "issued", "conclusion",
            // Encounter, Appointment, DocumentReference.
            "class", "serviceType", "serviceCategory", "appointmentType", "masterIdentifier", "docStatus", "date",
            "content", "attachment", "context",
            // Bundle.link: a paged searchset's next page.
            "link", "relation", "url",
        ]

    /// What the decoder builds of a document: `scope` unless widened (to `.everything`, say, to check that the
    /// scope leaves out nothing a reader reads).
    public var readScope: XMLReadScope = Self.scope

    public var limits: XMLParseLimits
    /// Whether the document is another CareGate gateway's answer (federation): then each entry is attributed to
    /// the providers behind that gateway that its provenance names, and its provider-outcome notices say which of
    /// them did not answer it.
    public let readsGatewayProvenance: Bool

    /// - Parameter gateway: the provider is another CareGate gateway (see `readsGatewayProvenance`).
    public init(limits: XMLParseLimits = XMLParseLimits(), gateway: Bool = false) {
        self.limits = limits
        readsGatewayProvenance = gateway
        if gateway { readScope = Self.gatewayScope }
    }

    public func decode(_ body: [UInt8], charset: String?, from provider: ProviderID) throws(DecodeError)
        -> DecodedRecord
    {
        let root = try parse(body, charset: charset)
        let resources = Self.resources(in: root)
        let index = FHIRReferenceIndex(resources)
        var record = DecodedRecord(nextPage: Self.nextPage(of: root))
        for (offset, found) in resources.enumerated() {
            guard let element = found.element else {
                record.unreadable += 1
                continue
            }
            if readsGatewayProvenance, element.name == "OperationOutcome" {
                record.relayedOutcomes += Self.relayedOutcomes(element)
                continue
            }
            // The provider's own id makes the entry traceable back to it; without one, the fullUrl still
            // names it within the response, and a position at least tells entries apart.
            let id = element.fhirValue("id") ?? found.fullUrl ?? "#\(offset + 1)"
            let resource = FHIRResource(
                element: element, source: SourceReference(provider: provider, id: id), index: index)
            switch resource.read() {
            case .entry(let entry) where readsGatewayProvenance:
                record.entries += Self.attributed(entry, element: element, via: provider)
            case .entry(let entry): record.entries.append(entry)
            case .patient(let patient): record.patient = record.patient ?? patient
            case .unreadable: record.unreadable += 1
            case .ignored: break
            }
        }
        return record
    }

    /// An entry from another gateway, once per source its provenance names, each attributed to that source as
    /// `<gateway>/<provider>` with the source's own id: the merge brings copies of one fact back together (they
    /// share its identifiers and content), listing every source, as that gateway's view did. Without provenance it
    /// stays the gateway's own.
    static func attributed(_ entry: CareEntry, element: XMLElement, via gateway: ProviderID) -> [CareEntry] {
        var entry = entry
        // A dose given, as that gateway exported it (a MedicationStatement marked so).
        if entry.category == .medication, element.children("extension").contains(where: {
            $0.attribute("url") == CareGateFHIRProfile.administeredExtension && $0.fhirValue("valueBoolean") == "true"
        }) {
            entry.administered = true
        }
        // The copies of one entry there are one fact here too, whatever their own lines say: they share an
        // identifier naming that entry.
        let sameEntry = EntryIdentifier(system: "urn:caregate:gateway-entry", value: "\(gateway.rawValue)/\(entry.source.id)")
        var copies: [CareEntry] = []
        for source in element.children("extension")
        where source.attribute("url") == CareGateFHIRProfile.sourceExtension {
            let parts = careGateParts(of: source)
            guard let provider = parts["provider"], ProviderID.isValid(provider), let id = parts["id"] else { continue }
            var copy = entry
            copy.source = SourceReference(provider: ProviderID("\(gateway.rawValue)/\(provider)"), id: id)
            // That source's own line: merged again here, the copies give the line and the per-source lines that
            // gateway's view gave.
            if let summary = parts["summary"] { copy.summary = summary }
            copy.identifiers.append(sameEntry)
            copies.append(copy)
        }
        return copies.isEmpty ? [entry] : copies
    }

    /// A CareGate provider-outcome notice's providers: those behind the gateway that did not answer it. Anything
    /// that is not one (another OperationOutcome, a notice naming no valid provider) is passed over.
    static func relayedOutcomes(_ element: XMLElement) -> [RelayedOutcome] {
        element.children("issue").compactMap { issue in
            guard
                let notice = issue.children("extension").first(where: {
                    $0.attribute("url") == CareGateFHIRProfile.providerOutcomeExtension
                }),
                let status = issue.child("details")?.children("coding").first(where: {
                    $0.fhirValue("system") == CareGateFHIRProfile.providerStatusCodeSystem
                })?.fhirValue("code")
            else { return nil }
            let parts = careGateParts(of: notice)
            guard let provider = parts["provider"], ProviderID.isValid(provider) else { return nil }
            return RelayedOutcome(
                provider: ProviderID(provider), kind: parts["kind"].flatMap(ProviderKind.init(rawValue:)), status: status,
                detail: parts["detail"].map { String($0.prefix(200)) })
        }
    }

    /// The `valueString`s of a CareGate extension's nested extensions, by their `url`.
    private static func careGateParts(of element: XMLElement) -> [String: String] {
        var parts: [String: String] = [:]
        for part in element.children("extension") {
            if let name = part.attribute("url"), parts[name] == nil, let value = part.fhirValue("valueString") {
                parts[name] = value
            }
        }
        return parts
    }

    /// Parses and checks that the root is a FHIR resource (a Bundle is one).
    private func parse(_ body: [UInt8], charset: String?) throws(DecodeError) -> XMLElement {
        let root: XMLElement
        do {
            root = try SafeXMLParser.parse(body, limits: limits, reading: readScope, charset: charset)
        } catch {
            throw .xml(error)
        }
        // Resource names are UpperCamelCase; a lower-case root in the FHIR namespace is a fragment
        // (a datatype or an element), not a resource.
        guard root.namespace == Self.namespace, root.name.first?.isUppercase == true else {
            throw DecodeError(
                .unexpectedRoot(
                    element: root.name, namespace: root.namespace,
                    expected: "a FHIR Bundle or resource in namespace \(Self.namespace)"))
        }
        return root
    }

    /// A Bundle's `link` whose relation is `next`: the URL of the page after this one.
    private static func nextPage(of root: XMLElement) -> String? {
        guard root.name == "Bundle" else { return nil }
        for link in root.children("link") where link.child("relation")?.fhirValue == "next" {
            if let url = link.child("url")?.fhirValue { return url }
        }
        return nil
    }

    /// The resources a document carries: a Bundle's `entry/resource/*` in order, or the root resource itself.
    /// Bundle entries without a `resource` (e.g. a batch's GET requests) carry no data and are skipped.
    private static func resources(in root: XMLElement) -> [FHIRDocumentResource] {
        guard root.name == "Bundle" else { return [FHIRDocumentResource(entry: nil, element: root)] }
        return root.children("entry").compactMap { entry in
            guard let resource = entry.child("resource") else { return nil }
            return FHIRDocumentResource(entry: entry, element: resource.children.first)
        }
    }
}
