import CareRecords
import ProviderFormats
import Testing

/// The whole UK Core example set: real documents written by people who did not write this decoder.
@Suite("UK Core examples, all of them")
struct UKCoreCorpusTests {
    @Test("all 215 examples decode without throwing")
    func everyExampleDecodes() throws {
        let names = try UKCoreExamples.fileNames()
        #expect(names.count == 215)
        var failures: [String] = []
        for name in names {
            do {
                _ = try UKCoreExamples.decode(name)
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        #expect(failures == [])
    }

    /// What each supported resource type must decode to. Observation depends on its category.
    struct Expectation: Sendable, CustomTestStringConvertible {
        var resourceType: String
        var categories: Set<EntryCategory>
        var testDescription: String { resourceType }
    }

    static let expectations: [Expectation] = [
        .init(resourceType: "AllergyIntolerance", categories: [.allergy]),
        .init(resourceType: "MedicationStatement", categories: [.medication]),
        .init(resourceType: "MedicationRequest", categories: [.medication]),
        .init(resourceType: "MedicationAdministration", categories: [.medication]),
        .init(resourceType: "MedicationDispense", categories: [.medication]),
        .init(resourceType: "Observation", categories: [.testResult, .observation]),
        .init(resourceType: "DiagnosticReport", categories: [.testResult]),
        .init(resourceType: "Encounter", categories: [.encounter]),
        .init(resourceType: "Appointment", categories: [.appointment]),
        .init(resourceType: "DocumentReference", categories: [.document]),
        .init(resourceType: "CarePlan", categories: [.carePlan]),
        .init(resourceType: "Condition", categories: [.condition]),
        .init(resourceType: "Immunization", categories: [.immunisation]),
    ]

    /// `UKCore-<Type>-….xml` holds one resource of that type; each must give exactly one entry of the
    /// type's category, traced back to the resource's own id.
    @Test("each supported resource type yields one entry per example, in its category", arguments: expectations)
    func supportedTypeYieldsEntries(_ expected: Expectation) throws {
        let names = try UKCoreExamples.fileNames().filter { $0.hasPrefix("UKCore-\(expected.resourceType)-") }
        try #require(!names.isEmpty, "no examples named for \(expected.resourceType)")
        var entriesInCategory = 0
        for name in names {
            let record = try UKCoreExamples.decode(name)
            #expect(record.entries.count == 1, "\(name)")
            #expect(record.unreadable == 0, "\(name)")
            for entry in record.entries {
                #expect(expected.categories.contains(entry.category), "\(name) gave \(entry.category)")
                #expect(
                    entry.source == SourceReference(provider: UKCoreExamples.provider, id: String(name.dropLast(4))))
                #expect(!entry.summary.isEmpty, "\(name)")
                if expected.categories.contains(entry.category) { entriesInCategory += 1 }
            }
        }
        #expect(entriesInCategory == names.count)
    }

    @Test("laboratory observations are test results, vital signs are observations")
    func observationCategory() throws {
        let names = try UKCoreExamples.fileNames()
        let lab =
            names.filter { $0.hasPrefix("UKCore-Observation-Lab-") } + [
                "UKCore-Observation-Group-FullBloodCount-Example.xml"
            ]
        let vitalSigns = names.filter { $0.hasPrefix("UKCore-Observation-VitalSigns-") }
        #expect(lab.count == 5)
        #expect(vitalSigns.count == 9)
        for name in lab { #expect(try UKCoreExamples.onlyEntry(name).category == .testResult, "\(name)") }
        for name in vitalSigns { #expect(try UKCoreExamples.onlyEntry(name).category == .observation, "\(name)") }
    }

    /// Only resources that say nothing readable count as unreadable: here a MedicationStatement whose
    /// medicine is a reference to outside the document, and a Condition holding only an extension.
    @Test("only the examples with nothing readable count as unreadable")
    func unreadableExamples() throws {
        var unreadable: [String: Int] = [:]
        for name in try UKCoreExamples.fileNames() {
            let count = try UKCoreExamples.decode(name).unreadable
            if count > 0 { unreadable[name] = count }
        }
        #expect(
            unreadable == [
                "Extension-UKCore-MedicationChangeSummary-Example.xml": 1,
                "Extension-UKCore-ConditionEpisode-Example.xml": 1,
            ])
    }

    @Test("Bundles: every entry's resource is read, with the entry's fullUrl when the resource has no id")
    func bundles() throws {
        let news2 = try UKCoreExamples.decode("UKCore-Bundle-NEWS2Observations-Example.xml")
        #expect(news2.entries.count == 8)
        #expect(news2.entries.allSatisfy { $0.category == .observation })

        let batch = try UKCoreExamples.decode("UKCore-Bundle-BatchPOST-Example.xml")
        #expect(batch.entries.count == 5)
        #expect(batch.entries.first?.source.id == "urn:uuid:857d3c72-1672-4c8f-b6a1-4d04b44b0d7a")
        #expect(batch.entries.first?.summary.contains("120") == true)

        // A List and an AllergyIntolerance: the List is not shown, the allergy is.
        let allergies = try UKCoreExamples.decode("UKCore-Bundle-AllergyList-Example.xml")
        #expect(allergies.entries.map(\.category) == [.allergy])
        #expect(allergies.entries.first?.source.id == "efae5859-28df-4e7d-be91-6df56d8215e4")

        let empty = try UKCoreExamples.decode("UKCore-Bundle-Sn-NoAllergyData-Example.xml")
        #expect(empty == DecodedRecord())
    }
}
