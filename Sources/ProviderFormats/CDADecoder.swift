import CareRecords
import XMLSupport

/// Decodes HL7 CDA R2 documents (C-CDA, NHS CDA such as NHS 111 post-event messages and discharge summaries).
///
/// The body is one `ClinicalDocument`, or a wrapper element of any name and namespace whose children include
/// `ClinicalDocument`s, as a provider returns several documents for one patient (several NHS 111 calls); an
/// empty wrapper means the provider holds none.
///
/// Each document yields a `document` entry from its header, an `encounter` entry when it names one
/// (`componentOf/encompassingEncounter`), the patient's demographics from its record target, and entries of
/// their own categories from the coded entries of its medication, allergy, problem, result, vital-sign and
/// immunisation sections (recognised by C-CDA templateId or LOINC section code). Other sections are represented
/// by the document entry alone.
///
/// Read as a tolerant reader: unknown elements are ignored, and an entry, section statement or document that
/// cannot be read is left out and counted in `unreadable`. A document about another patient than the first
/// one in the response (a different NHS number) is left out the same way, so one patient's record never
/// shows another's facts. Only a body that is not CDA at all throws.
public struct CDADecoder: RecordDecoder {
    /// The HL7 v3 namespace every CDA element is in.
    public static let namespace = "urn:hl7-org:v3"

    static let xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

    /// What the readers look at, so that only that is built (see `XMLReadScope`): the header and section
    /// elements some reader names, every element of the narrative block (`section/text`, whose elements coded
    /// entries point into by `ID` and whose words are read whole), and the attributes some reader reads. The
    /// rest (realm, type and confidentiality codes, routes, statement authors' people, `classCode`,
    /// `codeSystemName` …) is skipped while parsing. A wrapper's children are all kept, so that one of other
    /// things is refused rather than read as an empty wrapper.
    ///
    /// **A reader that reads a new element or attribute must add its name here**, or it reads as absent.
    /// `CDADecoderScopeTests` decodes the reference and simulated documents both ways and holds them equal.
    public static let scope = XMLReadScope(
        elements: [
            // Header.
            "ClinicalDocument", "id", "setId", "code", "title", "effectiveTime", "statusCode", "recordTarget",
            "patientRole", "patient", "name", "given", "family", "birthTime", "administrativeGenderCode", "author",
            "assignedAuthor", "representedOrganization", "custodian", "assignedCustodian",
            "representedCustodianOrganization", "componentOf", "encompassingEncounter", "dischargeDispositionCode",
            // Body, sections and their entries.
            "component", "structuredBody", "section", "templateId", "entry", "act", "organizer", "observation",
            "substanceAdministration", "entryRelationship", "consumable", "manufacturedProduct",
            "manufacturedMaterial", "manufacturedLabeledDrug", "participant", "participantRole", "playingEntity",
            "value", "doseQuantity", "low", "center", "period", "translation", "originalText", "reference",
            "repeatNumber",
            // The narrative block (CDA R2 StrucDoc): `text` itself, and every element it may hold.
            "text", "paragraph", "content", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr",
            "th", "td", "list", "item", "br", "sub", "sup", "footnote", "footnoteRef", "linkHtml",
            "renderMultiMedia",
        ],
        attributes: [
            "root", "extension", "code", "codeSystem", "displayName", "value", "unit", "nullFlavor", "type", "use",
            "typeCode", "inversionInd", "negationInd", "moodCode", "ID",
        ],
        keepsRootChildren: true)

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
        var record = DecodedRecord()
        for (offset, element) in try Self.documents(in: parse(body, charset: charset)).enumerated() {
            guard element.namespace == Self.namespace else {
                record.unreadable += 1
                continue
            }
            let document = CDADocument(element: element, provider: provider, position: offset + 1)
            let patient = document.patient
            if let known = record.patient?.nhsNumber, let other = patient?.nhsNumber, known != other {
                record.unreadable += 1
                continue
            }
            document.read(into: &record)
            record.patient = Self.combine(record.patient, patient)
        }
        return record
    }

    private func parse(_ body: [UInt8], charset: String?) throws(DecodeError) -> XMLElement {
        do {
            return try SafeXMLParser.parse(body, limits: limits, reading: readScope, charset: charset)
        } catch {
            throw .xml(error)
        }
    }

    /// The `ClinicalDocument` root itself, or a wrapper's `ClinicalDocument` children in order.
    ///
    /// A wrapper's children named `ClinicalDocument` outside the CDA namespace are returned too, so that they
    /// are counted as unreadable rather than silently dropped; its other children (a count, a link) are
    /// ignored. A wrapper with no child elements at all is how a provider says it holds no documents for the
    /// patient. Any other root is not a CDA response.
    private static func documents(in root: XMLElement) throws(DecodeError) -> [XMLElement] {
        if root.name == "ClinicalDocument", root.namespace == namespace { return [root] }
        let documents = root.children.filter { $0.name == "ClinicalDocument" }
        guard root.name != "ClinicalDocument", !documents.isEmpty || root.children.isEmpty else {
            throw DecodeError(
                .unexpectedRoot(
                    element: root.name, namespace: root.namespace,
                    expected: "a ClinicalDocument in namespace \(namespace), or a wrapper of ClinicalDocuments"))
        }
        return documents
    }

    /// The demographics across documents: the first document's, with gaps filled from later ones.
    private static func combine(_ first: PatientDemographics?, _ next: PatientDemographics?) -> PatientDemographics? {
        guard var combined = first else { return next }
        guard let next else { return combined }
        combined.nhsNumber = combined.nhsNumber ?? next.nhsNumber
        combined.givenName = combined.givenName ?? next.givenName
        combined.familyName = combined.familyName ?? next.familyName
        combined.birthDate = combined.birthDate ?? next.birthDate
        combined.gender = combined.gender ?? next.gender
        return combined
    }
}
