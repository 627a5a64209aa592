import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// What the bespoke formats carry beyond the mapped fields: who the answer is from and about, how the records
/// nest (an incident's observations and drugs, a monitoring episode's measurements and report), and the detail
/// each kind of system keeps (conveyance, heart-rate range, doses given).
@Suite("Bespoke formats")
struct BespokeFormatTests {
    let population = Shared.population
    let simulator = ProviderSimulator(population: Shared.population)

    private func answer(_ provider: ProviderID, _ patient: SyntheticPatient) throws -> XMLElement {
        try SafeXMLParser.parse(simulator.served(provider, patient.nhsNumber))
    }

    @Test(
        "each answer is in its own namespace, names the organisation with its ODS code, then the patient",
        arguments: [
            (SimulatedProviderID.ambulance, "EPCRExport", "Service", "Patient", "urn:caregate:example:ambulance-epcr:1"),
            (SimulatedProviderID.cardiac, "MonitoringSummary", "Service", "Patient", "urn:caregate:example:cardiac-monitoring:1"),
            (SimulatedProviderID.careHome, "ResidentRecord", "Home", "Resident", "urn:caregate:example:care-home:1"),
        ])
    func organisationAndPatient(provider: ProviderID, root: String, organisation: String, person: String, namespace: String) throws {
        let definition = Shared.definition(provider)
        for patient in population.patients where patient.isKnown(to: provider) {
            let record = try answer(provider, patient)
            #expect(record.name == root && record.namespace == namespace)
            #expect(record.children.prefix(2).map(\.name) == [organisation, person])
            let from = try #require(record.child(organisation))
            #expect(from.attribute("ods") == definition.odsCode && from.text == definition.name)
            let about = try #require(record.child(person))
            #expect(about.child("NHSNumber")?.text == patient.nhsNumber.digits)
            #expect(about.child("GivenName")?.text == patient.givenName)
            #expect(about.child("FamilyName")?.text == patient.familyName)
            #expect(about.child("BirthDate")?.text == patient.birthDate)
            #expect(about.child("Sex")?.text == patient.gender)
        }
    }

    @Test("an ambulance incident holds its own observations and drugs, and a conveyance that follows the complaint and NEWS2")
    func ambulanceIncidents() throws {
        var outcomes: Set<String> = [], drugs = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.ambulance) {
            let held = patient.resources(at: SimulatedProviderID.ambulance)
            for incident in try answer(SimulatedProviderID.ambulance, patient).children("Incident") {
                let id = try #require(incident.attribute("id"))
                let observations = incident.child("Observations")?.children.compactMap { $0.attribute("id") } ?? []
                let given = incident.child("DrugsGiven")?.children("Drug") ?? []
                var expectedObservations: [String] = [], expectedDrugs: [SimulatedMedication] = []
                for resource in held {
                    if case .observation(let observation) = resource, observation.encounterID == id {
                        expectedObservations.append(observation.id)
                    }
                    if case .medicationStatement(let drug) = resource, drug.encounterID == id { expectedDrugs.append(drug) }
                }
                #expect(observations == expectedObservations && observations.count == 6)
                #expect(given.compactMap { $0.attribute("id") } == expectedDrugs.map(\.id))
                for (element, drug) in zip(given, expectedDrugs) {
                    drugs += 1
                    #expect(element.child("DmdCode")?.text == drug.medicine.code)
                    #expect(element.child("Dose")?.text == drug.dosageText)
                    #expect(element.child("Administered")?.text == drug.date)
                }
                let news2 = Int(try #require(incident.child("Observations")?.child("EarlyWarningScore")?.child("Score")?.text))
                let complaint = incident.child("Complaint")?.attribute("code")
                let outcome = try #require(incident.child("Outcome")?.text)
                outcomes.insert(outcome)
                if (news2 ?? 0) >= 5 || complaint == "29857009" {
                    #expect(outcome == "Conveyed to emergency department")
                } else {
                    #expect(outcome != "Conveyed to emergency department")
                }
                #expect(incident.child("IncidentNumber")?.text.hasPrefix("CAS-") == true)
            }
        }
        #expect(outcomes.count == 3 && drugs >= 5)
    }

    @Test("a monitoring episode names its recorder and period; the heart-rate trend's minimum ≤ mean ≤ maximum")
    func cardiacEpisodes() throws {
        var episodes = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.cardiac) {
            for episode in try answer(SimulatedProviderID.cardiac, patient).children("Episode") {
                episodes += 1
                let device = try #require(episode.child("Device")?.text)
                #expect(device.hasSuffix("Holter recorder") || device.hasSuffix("ECG patch monitor"))
                let start = try #require(episode.child("Start")?.text)
                let end = try #require(episode.child("End")?.text)
                #expect(start < end)
                let trend = try #require(episode.child("HeartRateTrend"))
                let values = ["Minimum", "Mean", "Maximum"].compactMap { trend.child($0).flatMap { Double($0.text) } }
                #expect(values.count == 3 && values == values.sorted() && values[0] < values[2])
                #expect(trend.child("Unit")?.text == "/min" && trend.child("Recorded")?.text == end)
                let burden = try #require(episode.child("ArrhythmiaBurden")?.child("Burden"))
                #expect((0...100).contains(Double(burden.text) ?? -1) && burden.attribute("unit") == "%")
                let report = try #require(episode.child("Report"))
                #expect(try #require(report.child("Issued")?.text) > end)
            }
        }
        #expect(episodes >= 5)
    }

    @Test("each line of the care home's MAR lists the doses given over the last two days, at round times")
    func medicationAdministrationRecord() throws {
        var lines = 0, twiceDaily = 0
        for patient in population.patients where patient.isKnown(to: SimulatedProviderID.careHome) {
            let held = patient.resources(at: SimulatedProviderID.careHome)
            let record = try answer(SimulatedProviderID.careHome, patient)
            for line in record.child("MedicationAdministrationRecord")?.children("Medicine") ?? [] {
                lines += 1
                guard case .medicationStatement(let medicine)? = held.first(where: { $0.id == line.attribute("id") }) else {
                    Issue.record("no medicine \(line.attribute("id") ?? "?")")
                    continue
                }
                let given = line.children("Administration")
                #expect(given.compactMap { $0.child("Given")?.text } == medicine.administrations)
                #expect(!given.isEmpty)
                #expect(given.allSatisfy { $0.child("Outcome")?.text == "given" && $0.child("By")?.text == medicine.prescriber })
                #expect(medicine.administrations.allSatisfy { $0 >= "2026-11-18" && $0 < "2026-11-20" && $0.hasSuffix(":00:00Z") })
                if medicine.dosageText.contains("twice a day") {
                    twiceDaily += 1
                    #expect(given.count == 4)
                }
            }
        }
        #expect(lines >= 20 && twiceDaily >= 5)
    }
}
