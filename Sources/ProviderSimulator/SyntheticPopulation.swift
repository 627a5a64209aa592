import CareRecords

/// A deterministic synthetic population: the same seed always gives the same people, the same histories and so the
/// same bundle bytes, on any machine. NHS numbers are valid (modulus 11) and all in 9990000000–9999999999, a part of
/// the range never issued to real people.
///
/// The first patient is the demo patient: known to all six providers, with facts shared between them (see
/// `PatientProfile.draw`).
public struct SyntheticPopulation: Sendable {
    public static let defaultSeed: UInt64 = 20_261_125

    public let seed: UInt64
    public let patients: [SyntheticPatient]
    private let indexByNHSNumber: [NHSNumber: Int]

    /// Generates `count` patients (at least one) from `seed`. Takes a few milliseconds for the default 60.
    public static func generate(seed: UInt64 = defaultSeed, count: Int = 60) -> SyntheticPopulation {
        precondition(count >= 1, "a population needs at least the demo patient")
        var master = SplitMix64(seed: seed)
        var numbers: Set<NHSNumber> = []
        var patients: [SyntheticPatient] = []
        patients.reserveCapacity(count)
        for index in 0..<count {
            // Each patient draws from its own generator, so a change to one provider's history cannot reshuffle
            // every later patient's.
            var identityRNG = master.fork()
            var profileRNG = master.fork()
            let historyRNG = master.fork()
            let nhsNumber = drawNHSNumber(using: &identityRNG, excluding: numbers)
            numbers.insert(nhsNumber)
            let profile = PatientProfile.draw(index: index, nhsNumber: nhsNumber, using: &profileRNG)
            var writer = PatientHistoryWriter(profile: profile, rng: historyRNG)
            let records = writer.write()
            patients.append(
                SyntheticPatient(
                    index: index, nhsNumber: nhsNumber, givenName: profile.givenName, familyName: profile.familyName,
                    birthDate: profile.birthDay.text, gender: profile.gender, records: records,
                    sharedFacts: SharedFactFinder.find(in: records)))
        }
        return SyntheticPopulation(seed: seed, patients: patients)
    }

    private init(seed: UInt64, patients: [SyntheticPatient]) {
        self.seed = seed
        self.patients = patients
        self.indexByNHSNumber = Dictionary(
            patients.map { ($0.nhsNumber, $0.index) }, uniquingKeysWith: { first, _ in first })
    }

    /// The patient every provider knows, for the demo and end-to-end tests.
    public var demoPatient: SyntheticPatient { patients[0] }

    public func patient(_ nhsNumber: NHSNumber) -> SyntheticPatient? {
        indexByNHSNumber[nhsNumber].map { patients[$0] }
    }

    /// The providers holding a record for the patient, in the standard order; empty for someone not in the population.
    public func providers(knowing nhsNumber: NHSNumber) -> [ProviderID] {
        patient(nhsNumber)?.knownProviders ?? []
    }

    /// The facts several providers hold for the patient, as the merge should find them.
    public func sharedFacts(for nhsNumber: NHSNumber) -> [SharedFact] {
        patient(nhsNumber)?.sharedFacts ?? []
    }

    /// An NHS number starting 999 with a valid check digit, not already used.
    private static func drawNHSNumber(using rng: inout SplitMix64, excluding used: Set<NHSNumber>) -> NHSNumber {
        while true {
            var digits: [UInt8] = [9, 9, 9]
            for _ in 0..<6 { digits.append(UInt8(rng.int(in: 0...9))) }
            guard let check = NHSNumber.checkDigit(digits) else { continue }
            let text = String(decoding: (digits + [check]).map { $0 + 48 }, as: UTF8.self)
            guard let number = try? NHSNumber(text), !used.contains(number) else { continue }
            return number
        }
    }
}

extension SyntheticPopulation {
    /// This population with one more patient, on home telemonitoring: besides an ordinary history, their GP record
    /// holds `readings` hourly heart-rate readings sent in by a home monitor. For measuring a very large record
    /// (thousands of entries, megabytes of FHIR) end to end; the other patients are unchanged.
    public func addingTelemonitoredPatient(readings: Int) -> (population: SyntheticPopulation, patient: SyntheticPatient) {
        var rng = SplitMix64(seed: seed ^ 0x7E1E_3017)
        var identityRNG = rng.fork()
        var profileRNG = rng.fork()
        let index = patients.count
        let nhsNumber = Self.drawNHSNumber(using: &identityRNG, excluding: Set(patients.map(\.nhsNumber)))
        let profile = PatientProfile.draw(index: index, nhsNumber: nhsNumber, using: &profileRNG)
        var writer = PatientHistoryWriter(profile: profile, rng: rng.fork())
        var records = writer.write()
        let gp = SimulatedProviderID.gp
        for reading in 0..<readings {
            let day = SimulatedDay.reference.adding(days: -(reading / 24))
            records[gp, default: []].append(
                .observation(
                    SimulatedObservation(
                        id: "gp-tel-\(SimulatedDay.pad(index, 4))-\(reading + 1)", code: ClinicalCatalogue.heartRate,
                        category: "vital-signs", value: .quantity(value: String(58 + rng.int(in: 0...40)), unit: "/min"),
                        effectiveDateTime: day.at(hour: 23 - reading % 24, minute: 0),
                        performer: "Home telemonitoring hub", device: "Home heart-rate monitor")))
        }
        let patient = SyntheticPatient(
            index: index, nhsNumber: nhsNumber, givenName: profile.givenName, familyName: profile.familyName,
            birthDate: profile.birthDay.text, gender: profile.gender, records: records,
            sharedFacts: SharedFactFinder.find(in: records))
        return (SyntheticPopulation(seed: seed, patients: patients + [patient]), patient)
    }
}
