import CareGateTesting
import CareRecords
import FHIRExport
import Foundation
import Testing
import XMLSupport

/// What the tests share, built once per process (the R4 schema takes ~0.1 s to load, and is parsed a second
/// time as XML for the JSON shape checks).
enum Shared {
    /// The repository root, from this file's place in it (`Tests/FHIRExportTests/…`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let schemaPath = packageRoot.appendingPathComponent("schemas/fhir-r4/fhir-single.xsd").path

    static let schema = Result { () throws(XMLSchemaError) -> XMLSchema in try XMLSchema(path: schemaPath) }
    static let schemaModel = Result { try FHIRSchemaModel(xsd: Array(try Data(contentsOf: URL(fileURLWithPath: schemaPath)))) }

    static let baseURL = "http://127.0.0.1:8080/fhir"
    static let exporter = FHIRExporter(baseURL: baseURL + "/")
    static let nhs = try! NHSNumber("9434765919")
    static let demographics = PatientDemographics(
        givenName: "Ann <\"Nan\">", familyName: "O'Brien & Sons", birthDate: ClinicalDate("1970-04-05T08:00:00Z"),
        gender: "F")

    static let notices = [
        FHIRProviderNotice(provider: "ambulance", status: "timeout", detail: "no answer within 800 ms"),
        FHIRProviderNotice(provider: "care-home", status: "circuit-open", detail: nil),
    ]
    static let links: [(relation: String, url: String)] = [
        ("self", baseURL + "/Patient/9434765919/$everything?_count=50&_offset=0"),
        ("next", baseURL + "/Patient/9434765919/$everything?_count=50&_offset=50"),
    ]

    static var allResources: [FHIRResource] {
        [exporter.patient(nhs, demographics: demographics)]
            + Fixtures.entries.map { exporter.resource(for: $0, patient: nhs) }
    }

    static var bundle: FHIRResource {
        exporter.searchset(allResources, total: 120, links: links, notices: notices)
    }

    static var errorOutcome: FHIRResource {
        exporter.operationOutcome(issueType: "forbidden", code: "no-legitimate-relationship",
                                  diagnostics: "the token's patient is not the path's <patient> & no break-glass")
    }

    static var capabilityStatement: FHIRResource {
        exporter.capabilityStatement(softwareVersion: "1.4.0", date: "2026-11-25")
    }

    static func json(_ resource: FHIRResource) throws -> JSONValue {
        try JSONValue.parse(resource.encoded(.json))
    }

    static func xml(_ resource: FHIRResource) throws -> XMLElement {
        try SafeXMLParser.parse(resource.encoded(.xml))
    }

    /// The JSON entry (from the fixture bundle, or a single resource's JSON) for a fixture entry's id.
    static func json(for entryID: String) throws -> JSONValue {
        let entry = try #require(Fixtures.entries.first { $0.id == entryID })
        return try json(exporter.resource(for: entry, patient: nhs))
    }
}

/// Merged entries covering every category and the awkward cases providers produce.
enum Fixtures {
    static let entries: [MergedEntry] = [
        MergedEntry(
            id: "e-appointment-booked", category: .appointment,
            code: Coding(system: Coding.System.snomedCT, code: "185389009", display: "Follow-up visit"),
            date: ClinicalDate("2024-06-01T09:30:00+01:00"),
            summary: "Cardiology <clinic> & \"review\" 'A'", status: "Booked", value: nil, dose: nil,
            sources: [SourceReference(provider: "mh-trust", id: "appt/1")]),
        MergedEntry(
            id: "e-appointment-day", category: .appointment, code: nil, date: ClinicalDate("2024-07-15"),
            summary: "GP review", status: "DNA", value: nil, dose: nil,
            sources: [SourceReference(provider: "gp", id: "A-2")]),
        MergedEntry(
            id: "e-encounter", category: .encounter,
            code: Coding(system: Coding.System.snomedCT, code: "185347001", display: "Encounter for problem"),
            date: ClinicalDate("2024-03-05T14:30"), summary: "Seen in A&E", status: "completed", value: nil,
            dose: nil, sources: [SourceReference(provider: "mh-trust", id: "enc-9")]),
        MergedEntry(
            id: "e-medication-active", category: .medication,
            code: Coding(system: Coding.System.dmd, code: "322236009", display: "Paracetamol 500mg tablets"),
            date: ClinicalDate("2024-05-01"), summary: "Paracetamol 500mg tablets", status: "active", value: nil,
            dose: "1g four times a day", sources: [
                SourceReference(provider: "gp", id: "med-1"), SourceReference(provider: "mh-trust", id: "MS/77"),
            ], conflict: Conflict(field: "dose", with: ["e-medication-completed", "bad id/1"])),
        MergedEntry(
            id: "e-medication-completed", category: .medication,
            code: Coding(system: Coding.System.dmd, code: "322236009", display: "Paracetamol 500mg tablets"),
            date: ClinicalDate("2023-11"), summary: "Paracetamol", status: "Completed", value: nil,
            dose: "500mg as needed", sources: [SourceReference(provider: "care-home", id: "mar-3")],
            conflict: Conflict(field: "dose", with: ["e-medication-active"])),
        MergedEntry(
            id: "e-allergy", category: .allergy,
            code: Coding(system: Coding.System.snomedCT, code: "91936005", display: "Allergy to penicillin"),
            date: ClinicalDate("2019"), summary: "Penicillin allergy", status: nil, value: nil, dose: nil,
            sources: [SourceReference(provider: "gp", id: "al-1")]),
        MergedEntry(
            id: "e-allergy-error", category: .allergy, code: nil, date: nil, summary: "Latex allergy",
            status: "Entered in error", value: nil, dose: nil,
            sources: [SourceReference(provider: "nhs111", id: "al-x")]),
        MergedEntry(
            id: "e-lab-numeric", category: .testResult,
            code: Coding(system: Coding.System.loinc, code: "2345-7", display: "Glucose"),
            date: ClinicalDate("2024-05-01T08:00:00Z"), summary: "Glucose 5.00 mmol/L", status: "final",
            value: Quantity(value: "5.00", unit: "mmol/L"), dose: nil,
            sources: [SourceReference(provider: "mh-trust", id: "obs-1"), SourceReference(provider: "gp", id: "obs-1")]),
        MergedEntry(
            id: "e-lab-comparator", category: .testResult,
            code: Coding(system: Coding.System.loinc, code: "1988-5", display: "CRP"),
            date: ClinicalDate("2024-05-02T08:00:00.250-05:00"), summary: "CRP", status: "pending",
            value: Quantity(value: "<.5", unit: "mg/L"), dose: nil,
            sources: [SourceReference(provider: "gp", id: "obs-2")]),
        MergedEntry(
            id: "e-lab-text", category: .testResult, code: nil, date: ClinicalDate("2024-05-03T10:00:00+14:30"),
            summary: "COVID-19 PCR", status: nil, value: Quantity(value: "positive", unit: nil), dose: nil,
            sources: [SourceReference(provider: "nhs111", id: "pcr")]),
        MergedEntry(
            id: "e-report", category: .testResult,
            code: Coding(system: Coding.System.loinc, code: "58410-2", display: "Full blood count"),
            date: ClinicalDate("2024-04"), summary: "Full blood count", status: "Final", value: nil, dose: nil,
            sources: [SourceReference(provider: "mh-trust", id: "dr-1")]),
        MergedEntry(
            id: "e-vital", category: .observation,
            code: Coding(system: Coding.System.snomedCT, code: "271649006", display: "Systolic blood pressure"),
            date: ClinicalDate("2024-05"), summary: "Systolic BP", status: nil,
            value: Quantity(value: "+120", unit: "mm[Hg]"), dose: nil,
            sources: [SourceReference(provider: "ambulance", id: "vit-1")]),
        MergedEntry(
            id: "e-vital-blank", category: .observation, code: nil, date: nil, summary: "  \u{1}  ", status: nil,
            value: Quantity(value: "1,5", unit: "kg"), dose: nil,
            sources: [SourceReference(provider: "care-home", id: "w-1")]),
        MergedEntry(
            id: "e-document", category: .document,
            code: Coding(system: Coding.System.snomedCT, code: "373942005", display: "Discharge summary"),
            date: ClinicalDate("2024-02-01T10:00:00Z"), summary: "Discharge summary\nline two\tend", status: nil,
            value: nil, dose: nil, sources: [SourceReference(provider: "mh-trust-documents", id: "doc-1")]),
        MergedEntry(
            id: "e-document-day", category: .document, code: nil, date: ClinicalDate("2024-02-02"),
            summary: "Letter", status: "superseded", value: nil, dose: nil,
            sources: [SourceReference(provider: "mh-trust-documents", id: "doc-2")]),
        MergedEntry(
            id: "e-care-plan", category: .carePlan,
            code: Coding(system: Coding.System.snomedCT, code: "736366004", display: "Advance care plan"),
            date: ClinicalDate("2024-01-10"), summary: "Advance care plan", status: "Active", value: nil, dose: nil,
            sources: [SourceReference(provider: "care-home", id: "cp-1")]),
        MergedEntry(
            id: "e-condition", category: .condition, code: nil, date: ClinicalDate("2015-06-30"),
            summary: "Asthma", status: "completed", value: nil, dose: nil,
            sources: [SourceReference(provider: "gp", id: "c-1")]),
        MergedEntry(
            id: "e-condition-error", category: .condition,
            code: Coding(system: "not a uri", code: "  195967001  x ", display: "Asthma"), date: nil,
            summary: "Asthma?", status: "entered-in-error", value: nil, dose: nil,
            sources: [SourceReference(provider: "nhs111", id: "c-2")]),
        MergedEntry(
            id: "e-immunisation", category: .immunisation,
            code: Coding(system: Coding.System.snomedCT, code: "39114911000001105", display: "COVID-19 vaccine"),
            date: nil, summary: "COVID-19 vaccine", status: nil, value: nil, dose: nil,
            sources: [SourceReference(provider: "gp", id: "imm-1")]),
        MergedEntry(
            id: "merged/entry:1 ü", category: .immunisation, code: nil, date: ClinicalDate("2021-03-01T09:00:00Z"),
            summary: "Influenza vaccine", status: "given", value: nil, dose: nil,
            sources: [SourceReference(provider: "gp", id: "imm/2 ü")]),
        MergedEntry(
            id: String(repeating: "x", count: 70), category: .encounter, code: nil, date: nil, summary: "Phone call",
            status: nil, value: nil, dose: nil, sources: [SourceReference(provider: "nhs111", id: "call-1")]),
    ]
}

/// (path, value) leaves of a FHIR document, ignoring array positions: a path is the element names from the
/// resource type down (a nested resource adds its type), a value is a primitive's text. In XML, `value`
/// attributes are the leaf's value and other attributes (`url`) leaves of their own; in JSON, every string,
/// number and boolean is a leaf.
/// What the R4 XSD says about each complex type's elements: their type and whether they repeat; which types are
/// primitives (a `value` attribute) and of which JSON kind. Used to check FHIR JSON's shape, which no schema
/// covers: arrays exactly where an element repeats, numbers and booleans where the type is one.
struct FHIRSchemaModel {
    struct Declaration {
        var type: String
        var repeats: Bool
    }

    enum PrimitiveKind { case string, number, boolean }

    private var elements: [String: [String: Declaration]] = [:]
    private var attributes: [String: Set<String>] = [:]
    private var bases: [String: String] = [:]
    private var valueTypes: [String: String] = [:]

    init(xsd: [UInt8]) throws {
        let root = try SafeXMLParser.parse(xsd, limits: XMLParseLimits(maxBytes: 8 * 1024 * 1024, maxDepth: 64))
        for type in root.children("complexType") {
            guard let name = type.attribute("name") else { continue }
            var declarations: [String: Declaration] = [:]
            var attributeNames: Set<String> = []
            func collect(_ node: XMLElement) {
                for child in node.children {
                    switch child.name {
                    case "element":
                        if let element = child.attribute("name"), let elementType = child.attribute("type") {
                            declarations[element] = Declaration(
                                type: elementType, repeats: child.attribute("maxOccurs") == "unbounded")
                        }
                    case "attribute":
                        if let attribute = child.attribute("name") {
                            attributeNames.insert(attribute)
                            if attribute == "value", let valueType = child.attribute("type") { valueTypes[name] = valueType }
                        }
                    case "extension":
                        if let base = child.attribute("base") { bases[name] = base }
                        collect(child)
                    default: collect(child)
                    }
                }
            }
            collect(type)
            elements[name] = declarations
            attributes[name] = attributeNames
        }
    }

    func declaration(_ element: String, in type: String) -> Declaration? {
        var current: String? = type
        while let name = current {
            if let declaration = elements[name]?[element] { return declaration }
            current = bases[name]
        }
        return nil
    }

    func hasAttribute(_ attribute: String, in type: String) -> Bool {
        var current: String? = type
        while let name = current {
            if attributes[name]?.contains(attribute) == true { return true }
            current = bases[name]
        }
        return false
    }

    func isKnown(_ type: String) -> Bool { elements[type] != nil }

    /// Nil for a complex type.
    func primitiveKind(_ type: String) -> PrimitiveKind? {
        guard let valueType = valueTypes[type] else { return nil }
        switch valueType {
        case "decimal-primitive", "integer-primitive", "unsignedInt-primitive", "positiveInt-primitive": return .number
        case "boolean-primitive": return .boolean
        default: return .string
        }
    }

    /// Every way `json` (a resource) departs from FHIR JSON for its type: unknown elements, arrays where the
    /// element does not repeat (or none where it does), wrong primitive kinds, empty objects, arrays, strings, nulls.
    func problems(resource json: JSONValue, path: String = "") -> [String] {
        guard let type = json["resourceType"]?.string else { return ["\(path): no resourceType"] }
        guard isKnown(type) else { return ["\(path): unknown resource type \(type)"] }
        return problems(object: json, type: type, path: path.isEmpty ? type : path)
    }

    private func problems(object json: JSONValue, type: String, path: String) -> [String] {
        guard case .object(let members) = json else { return ["\(path): expected an object"] }
        if members.isEmpty { return ["\(path): empty object"] }
        var found: [String] = []
        for (key, value) in members {
            let here = "\(path).\(key)"
            if key == "resourceType" { continue }
            if hasAttribute(key, in: type) {
                if value.string?.isEmpty != false { found.append("\(here): expected a non-empty string attribute") }
                continue
            }
            guard let declaration = declaration(key, in: type) else {
                found.append("\(here): no such element in \(type)")
                continue
            }
            let items: [JSONValue]
            switch (value, declaration.repeats) {
            case (.array(let array), true):
                if array.isEmpty { found.append("\(here): empty array") }
                items = array
            case (.array, false):
                found.append("\(here): an array, but \(type).\(key) does not repeat")
                continue
            case (_, true):
                found.append("\(here): not an array, but \(type).\(key) repeats")
                continue
            case (_, false): items = [value]
            }
            for item in items { found += problems(value: item, type: declaration.type, path: here) }
        }
        return found
    }

    private func problems(value: JSONValue, type: String, path: String) -> [String] {
        if type == "ResourceContainer" { return problems(resource: value, path: path) }
        switch (primitiveKind(type), value) {
        case (.string, .string(let text)): return text.isEmpty ? ["\(path): empty string"] : []
        case (.number, .number), (.boolean, .bool): return []
        case (nil, .object): return problems(object: value, type: type, path: path)
        default: return ["\(path): \(value) is not a FHIR JSON \(type)"]
        }
    }
}
