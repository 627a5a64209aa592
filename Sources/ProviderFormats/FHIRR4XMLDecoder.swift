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
        skippedNamespaces: [xhtmlNamespace],
        elements: [
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
            // MedicationStatement, MedicationRequest.
            "medicationCodeableConcept", "medicationReference", "dosage", "dosageInstruction", "authoredOn",
            "dateAsserted", "effectiveDateTime", "effectivePeriod", "reasonCode",
            // Observation, DiagnosticReport.
            "valueQuantity", "valueCodeableConcept", "valueBoolean", "valueString", "valueInteger", "component",
            "dataAbsentReason", "effectiveInstant", "issued", "conclusion",
            // Encounter, Appointment, DocumentReference.
            "class", "serviceType", "serviceCategory", "appointmentType", "masterIdentifier", "docStatus", "date",
            "content", "attachment", "context",
            // Bundle.link: a paged searchset's next page.
            "link", "relation", "url",
        ],
        elementsWithAnyChild: ["resource", "contained"], attributes: ["value"], text: false)

    /// What the decoder builds of a document: `scope` unless widened (to `.everything`, say, to check that the
    /// scope leaves out nothing a reader reads).
    public var readScope: XMLReadScope = Self.scope

    public var limits: XMLParseLimits

    public init(limits: XMLParseLimits = XMLParseLimits()) {
        self.limits = limits
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
            // The provider's own id makes the entry traceable back to it; without one, the fullUrl still
            // names it within the response, and a position at least tells entries apart.
            let id = element.fhirValue("id") ?? found.fullUrl ?? "#\(offset + 1)"
            let resource = FHIRResource(
                element: element, source: SourceReference(provider: provider, id: id), index: index)
            switch resource.read() {
            case .entry(let entry): record.entries.append(entry)
            case .patient(let patient): record.patient = record.patient ?? patient
            case .unreadable: record.unreadable += 1
            case .ignored: break
            }
        }
        return record
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
