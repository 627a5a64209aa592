import CareRecords
import ProviderSimulator
import Testing
import XMLSupport

@Suite("A telemonitored patient (the benchmark's large record)")
struct TelemonitoredPatientTests {
    @Test("is added beside the others, unchanged, and their GP serves every reading as its own Observation")
    func everyReadingIsServed() throws {
        let population = Shared.population
        let (grown, patient) = population.addingTelemonitoredPatient(readings: 300)
        #expect(Array(grown.patients.prefix(population.patients.count)) == population.patients)
        #expect(grown.patients.count == population.patients.count + 1)
        #expect(!population.patients.contains { $0.nhsNumber == patient.nhsNumber })
        #expect(patient.nhsNumber.digits.hasPrefix("999"))
        #expect(grown.patient(patient.nhsNumber) == patient)

        let bundle = ProviderSimulator(population: grown).bundle(for: SimulatedProviderID.gp, patient: patient.nhsNumber)
        let root = try SafeXMLParser.parse(bundle, limits: XMLParseLimits(maxBytes: 64 * 1024 * 1024))
        let readings = root.children("entry").compactMap { $0.child("resource")?.child("Observation") }
            .compactMap { $0.child("id")?.attribute("value") }
            .filter { $0.hasPrefix("gp-tel-") }
        #expect(readings.count == 300)
        #expect(Set(readings).count == 300, "each reading has its own id")
    }
}
