import CareRecords
import Foundation
import ProviderSimulator
import Testing

/// The mapping files in `providers/` are what lets the gateway read the bespoke formats. These tests evaluate each
/// one exactly as the mapped-xml decoder is specified to (XPath 1.0 via libxml2, fields relative to each record,
/// string values, empty means absent) against every patient's answer, and check that what comes out is every fact the
/// provider holds, once each, with the code systems, doses, values and dates the merge matches on.
@Suite("Mapping files for the bespoke formats")
struct MappingFileTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)

    static let mappedProviders = Shared.definitions.filter { $0.format == .mappedXML }.map(\.id)
    static let fieldKeys: Set<String> = [
        "category", "records", "id", "code", "code_system", "display", "date", "value", "unit", "status", "dose",
        "summary", "identifier", "identifier_system", "administered",
    ]

    /// One record as the mapping reads it: each field's string, absent when empty.
    struct Mapped {
        var category: EntryCategory
        var fields: [String: String]
        subscript(_ key: String) -> String? { fields[key] }
    }

    private func mapping(for provider: ProviderID) throws -> MappingFile {
        let file = try #require(Shared.definition(provider).mappingFile)
        return try MappingFile(path: Shared.packageRoot.appendingPathComponent("providers/\(file)").path)
    }

    private func apply(_ mapping: MappingFile, to body: [UInt8]) throws -> (patient: String, root: String?, records: [String: Mapped]) {
        let document = try XPathDocument(body, namespaces: mapping.namespaces)
        var records: [String: Mapped] = [:]
        for rule in mapping.entries {
            let category = try #require(rule["category"].flatMap(EntryCategory.init(rawValue:)), "\(rule)")
            for node in try document.nodes(try #require(rule["records"])) {
                var fields: [String: String] = [:]
                for (key, expression) in rule where !["category", "records", "code_system", "identifier_system", "administered"].contains(key) {
                    let value = try document.string(expression, at: node)
                    if !value.isEmpty { fields[key] = value }
                }
                fields["code_system"] = rule["code_system"]
                fields["identifier_system"] = rule["identifier_system"]
                fields["administered"] = rule["administered"]
                let id = try #require(fields["id"], "a record without an id: \(rule)")
                #expect(records[id] == nil, "record \(id) mapped twice")
                records[id] = Mapped(category: category, fields: fields)
            }
        }
        return (try document.string(mapping.patient ?? "''"), document.rootName(prefixes: mapping.namespaces), records)
    }

    @Test("each bespoke provider names its mapping file, whose keys are the documented ones", arguments: mappedProviders)
    func fileShape(provider: ProviderID) throws {
        #expect(Shared.definition(provider).mappingFile == "\(provider.rawValue).mapping.yaml")
        let mapping = try mapping(for: provider)
        #expect(mapping.keys == ["namespaces", "root", "patient", "entries"])
        #expect(mapping.namespaces.count == 1)
        #expect(mapping.namespaces.values.first?.hasPrefix("urn:caregate:example:") == true)
        #expect(!mapping.entries.isEmpty)
        for rule in mapping.entries {
            #expect(Set(rule.keys).isSubset(of: Self.fieldKeys), "\(rule.keys)")
            #expect(rule["category"].flatMap(EntryCategory.init(rawValue:)) != nil)
            #expect(rule["records"]?.hasPrefix("/") == true && rule["id"] != nil && rule["summary"] != nil)
            #expect(rule["code_system"].map { $0.hasPrefix("http") } ?? true)
        }
        let categories = Set(mapping.entries.compactMap { $0["category"].flatMap(EntryCategory.init(rawValue:)) })
        #expect(categories == Set(Shared.definition(provider).categories))
    }

    @Test("applied to every answer, a mapping yields each fact the provider holds, once, as the merge must see it", arguments: mappedProviders)
    func mappingYieldsTheFacts(provider: ProviderID) throws {
        let mapping = try mapping(for: provider)
        var mappedRecords = 0
        for patient in population.patients {
            let (nhsNumber, root, records) = try apply(mapping, to: try simulator.served(provider, patient.nhsNumber))
            #expect(root == mapping.root)
            let held = patient.resources(at: provider)
            #expect(nhsNumber == (patient.isKnown(to: provider) ? patient.nhsNumber.digits : ""))
            #expect(Set(records.keys) == Set(held.map(\.id)), "patient #\(patient.index)")
            for resource in held {
                guard let record = records[resource.id] else { continue }
                mappedRecords += 1
                check(record, against: resource, patient: patient.index)
            }
        }
        #expect(mappedRecords >= 30)
        let stranger = try apply(mapping, to: try simulator.served(provider, Shared.strangerNHSNumber))
        #expect(stranger.patient.isEmpty && stranger.records.isEmpty && stranger.root == mapping.root)
    }

    /// The fields the merge compares must equal the fact's: code and code system always, then dose (medicines),
    /// value, unit and time (observations), substance (allergies), shared identifier (documents).
    private func check(_ record: Mapped, against resource: SimulatedResource, patient: Int) {
        let label = "patient #\(patient) \(resource.id)"
        #expect(record.category == resource.category, "\(label)")
        #expect(record["summary"]?.isEmpty == false, "\(label)")
        if let date = record["date"] { #expect(ClinicalDate(date) != nil, "\(label): \(date)") }
        func coded(_ coding: Coding?) {
            #expect(record["code"] == coding?.code, "\(label)")
            #expect(record["code_system"] == coding?.system, "\(label)")
            #expect(record["display"] == coding?.display, "\(label)")
        }
        switch resource {
        case .encounter(let incident):
            coded(incident.reason)
            #expect(record["date"] == incident.start)
            #expect(record["status"] == incident.status)
            #expect(record["summary"]?.hasSuffix(incident.outcome ?? "?") == true, "\(label)")
            #expect(record["identifier"]?.hasPrefix("CAS-") == true)
            #expect(record["identifier_system"] == "https://fhir.caregate.example/Id/ambulance-incident")
        case .observation(let observation):
            coded(observation.code)
            #expect(record["date"] == observation.effectiveDateTime, "\(label)")
            switch observation.value {
            case .quantity(let value, let unit):
                #expect(record["value"] == value && record["unit"] == unit, "\(label)")
            case .integer(let number):
                #expect(record["value"] == String(number) && record["unit"] == nil, "\(label)")
            case .text(let text):
                #expect(record["value"] == nil && record["summary"] == text, "\(label)")
            }
        case .medicationStatement(let medicine), .medicationRequest(let medicine):
            coded(medicine.medicine)
            #expect(record["code_system"] == Coding.System.dmd)
            #expect(record["dose"] == medicine.dosageText, "\(label)")
            #expect(record["date"] == medicine.date, "\(label)")
            // A drug given during an incident is a dose given at its time; a care home's MAR line is a medicine
            // the resident is on.
            #expect(record["administered"] == (medicine.encounterID != nil ? "true" : nil), "\(label)")
        case .allergy(let allergy):
            coded(allergy.substance)
            #expect(record["code_system"] == Coding.System.snomedCT)
            #expect(record["date"] == allergy.recordedDate)
        case .document(let document):
            coded(document.type)
            #expect(record["date"] == document.date)
            #expect(record["identifier"] == document.masterIdentifier?.value, "\(label)")
            #expect(record["identifier_system"] == document.masterIdentifier?.system, "\(label)")
        case .carePlan(let plan):
            coded(plan.category)
            #expect(record["date"] == plan.created)
            #expect(record["status"] == plan.status)
            #expect(record["summary"] == plan.title)
        case .labResult, .labReport, .appointment, .condition, .immunisation:
            Issue.record("\(label): a bespoke provider holds a \(resource.resourceType)")
        }
    }
}
