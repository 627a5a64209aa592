import CareRecords
import ProviderSimulator
import Testing

@Suite("Synthetic population")
struct SyntheticPopulationTests {
    let population = Shared.population

    @Test("has at least 50 patients, each with a valid, unique NHS number in 9990000000–9999999999")
    func nhsNumbersAreValidAndInTheSyntheticRange() throws {
        #expect(population.patients.count >= 50)
        var seen: Set<NHSNumber> = []
        for patient in population.patients {
            // Re-parsing proves the check digit; the stored type could not hold an invalid one, but the digits can
            // still be out of range.
            let reparsed = try NHSNumber(patient.nhsNumber.digits)
            #expect(reparsed == patient.nhsNumber)
            let value = try #require(Int(patient.nhsNumber.digits))
            #expect((9_990_000_000...9_999_999_999).contains(value))
            #expect(seen.insert(patient.nhsNumber).inserted, "NHS numbers must be unique")
        }
    }

    @Test("the same seed gives byte-identical answers in every format; another seed gives other people")
    func generationIsDeterministic() {
        let again = SyntheticPopulation.generate()
        #expect(again.patients == population.patients)
        let simulatorA = ProviderSimulator(population: population)
        let simulatorB = ProviderSimulator(population: again)
        for patient in population.patients.prefix(10) {
            for provider in SimulatedProviderID.all {
                let answer = simulatorA.body(for: provider, patient: patient.nhsNumber)
                #expect(answer != nil && answer == simulatorB.body(for: provider, patient: patient.nhsNumber))
            }
        }

        let other = SyntheticPopulation.generate(seed: 7)
        #expect(other.patients.map(\.nhsNumber) != population.patients.map(\.nhsNumber))
        #expect(
            ProviderSimulator(population: other).bundle(for: SimulatedProviderID.gp, patient: other.demoPatient.nhsNumber)
                != simulatorA.bundle(for: SimulatedProviderID.gp, patient: population.demoPatient.nhsNumber))
    }

    @Test("count is honoured and lookups find patients by NHS number")
    func lookups() throws {
        let small = SyntheticPopulation.generate(count: 3)
        #expect(small.patients.count == 3)
        let demo = population.demoPatient
        #expect(demo.index == 0)
        #expect(population.patient(demo.nhsNumber) == demo)
        #expect(population.patient(Shared.strangerNHSNumber) == nil)
        #expect(population.providers(knowing: Shared.strangerNHSNumber).isEmpty)
        #expect(population.sharedFacts(for: Shared.strangerNHSNumber).isEmpty)
    }

    @Test("the demo patient is known to all six providers (both of the trust's feeds)")
    func demoPatientIsKnownEverywhere() {
        #expect(population.providers(knowing: population.demoPatient.nhsNumber) == SimulatedProviderID.all)
        #expect(SimulatedProviderID.all.count == 7)
    }

    @Test("the trust's document feed knows exactly the trust's patients, and holds only their documents")
    func trustDocumentFeed() {
        for patient in population.patients {
            #expect(patient.isKnown(to: SimulatedProviderID.mhTrustDocuments) == patient.isKnown(to: SimulatedProviderID.mhTrust))
            let documents = patient.resources(at: SimulatedProviderID.mhTrustDocuments)
            #expect(documents.allSatisfy { $0.category == .document })
            #expect(!patient.isKnown(to: SimulatedProviderID.mhTrust) || !documents.isEmpty)
            // Letters and discharge summaries left the trust's FHIR record; only copies of cardiac reports stay.
            for case .document(let document) in patient.resources(at: SimulatedProviderID.mhTrust) {
                #expect(document.masterIdentifier?.value.hasPrefix("DOC-CARD-") == true)
            }
        }
    }

    @Test("not every patient is known to every provider, in realistic proportions")
    func providerCoverageIsPartial() {
        let count = Double(population.patients.count)
        func share(_ provider: ProviderID) -> Double {
            Double(population.patients.filter { $0.isKnown(to: provider) }.count) / count
        }
        #expect(share(SimulatedProviderID.gp) > 0.85)
        #expect((0.25...0.6).contains(share(SimulatedProviderID.ambulance)), "about 40% have ambulance records")
        #expect((0.15...0.5).contains(share(SimulatedProviderID.careHome)), "about 30% have care-home records")
        #expect(share(SimulatedProviderID.mhTrust) < 1)
        #expect(share(SimulatedProviderID.cardiac) < 1)
    }

    @Test("names, birth dates and genders are filled in and plausible")
    func demographics() {
        for patient in population.patients {
            #expect(!patient.givenName.isEmpty && !patient.familyName.isEmpty)
            #expect(ClinicalDate(patient.birthDate)?.precision == .day)
            #expect(patient.birthDate < "2008-01-01" && patient.birthDate > "1925-01-01")
            #expect(["female", "male"].contains(patient.gender))
        }
    }
}
