import CareRecords
import FHIRExport
import Foundation
import Testing
import XMLSupport

/// Every FHIR XML document the exporter writes validates against the official R4 schema (element order,
/// cardinality, value sets, primitive patterns), except for the schema's one known defect, handled below.
@Suite struct SchemaValidationTests {
    /// R4's XSD gives `MedicationStatement.status` the value set of `Medication.status` (active | inactive |
    /// entered-in-error); the specification's own value set (which clients check) also has completed, intended,
    /// stopped, on-hold, unknown and not-taken. Those — and only those, only on that element — are excused.
    static let specificationOnlyMedicationStatuses = ["completed", "intended", "stopped", "on-hold", "unknown", "not-taken"]

    static func isSchemaDefect(_ message: String) -> Bool {
        let mentionsSet = message.contains("{'active', 'inactive', 'entered-in-error'}")
            || message.contains("'MedicationStatusCodes-list'")
        return mentionsSet && specificationOnlyMedicationStatuses.contains { message.contains("'\($0)'") }
    }

    static func problems(_ resource: FHIRResource) throws -> [String] {
        try Shared.schema.get().validate(resource.encoded(.xml)).filter { !isSchemaDefect($0) }
    }

    @Test func bundleWithEveryResourceAndNoticesIsValid() throws {
        #expect(try Self.problems(Shared.bundle) == [])
    }

    @Test(arguments: Fixtures.entries.map(\.id))
    func eachEntryResourceIsValid(_ id: String) throws {
        let entry = try #require(Fixtures.entries.first { $0.id == id })
        let resource = Shared.exporter.resource(for: entry, patient: Shared.nhs)
        #expect(try Self.problems(resource) == [], "\(resource.resourceType) for \(id)")
    }

    @Test func everyClinicalTypeIsExercised() {
        let types = Set(Fixtures.entries.map(FHIRResourceType.of))
        #expect(types == Set(FHIRResourceType.clinical))
    }

    @Test func patientIsValid() throws {
        #expect(try Self.problems(Shared.exporter.patient(Shared.nhs, demographics: Shared.demographics)) == [])
        #expect(try Self.problems(Shared.exporter.patient(Shared.nhs, demographics: nil)) == [])
        #expect(try Self.problems(Shared.exporter.patient(Shared.nhs, demographics: PatientDemographics(
            givenName: "", familyName: nil, birthDate: ClinicalDate("2001-02"), gender: "attack helicopter"))) == [])
    }

    @Test func operationOutcomeIsValid() throws {
        #expect(try Self.problems(Shared.errorOutcome) == [])
        #expect(try Self.problems(Shared.exporter.providerOutcome(Shared.notices[0])) == [])
    }

    @Test func capabilityStatementIsValid() throws {
        #expect(try Self.problems(Shared.capabilityStatement) == [])
    }

    @Test func emptySearchsetIsValid() throws {
        #expect(try Self.problems(Shared.exporter.searchset([], total: 0, links: [], notices: [])) == [])
    }

    /// The excuse above is narrow: an `active` MedicationStatement validates with no filtering at all, and the
    /// only messages a `completed` one produces are the defect's.
    @Test func medicationStatementSchemaDefectIsTheOnlyExcuse() throws {
        let schema = try Shared.schema.get()
        let active = try #require(Fixtures.entries.first { $0.id == "e-medication-active" })
        #expect(schema.validate(Shared.exporter.resource(for: active, patient: Shared.nhs).encoded(.xml)) == [])

        let completed = try #require(Fixtures.entries.first { $0.id == "e-medication-completed" })
        let messages = schema.validate(Shared.exporter.resource(for: completed, patient: Shared.nhs).encoded(.xml))
        #expect(!messages.isEmpty)
        #expect(messages.allSatisfy(Self.isSchemaDefect), "\(messages)")
    }

    /// The validator really checks order: the Patient with `name` moved before `identifier` is refused.
    @Test func schemaRefusesElementsOutOfOrder() throws {
        let xml = String(decoding: Shared.exporter.patient(Shared.nhs, demographics: Shared.demographics).encoded(.xml),
                         as: UTF8.self)
        let identifier = try #require(xml.range(of: "<identifier>.*?</identifier>", options: .regularExpression))
        let name = try #require(xml.range(of: "<name>.*?</name>", options: .regularExpression))
        #expect(identifier.upperBound == name.lowerBound)
        let swapped = xml[..<identifier.lowerBound] + xml[name] + xml[identifier] + xml[name.upperBound...]
        #expect(try !Shared.schema.get().validate(Array(swapped.utf8)).isEmpty)
    }
}
