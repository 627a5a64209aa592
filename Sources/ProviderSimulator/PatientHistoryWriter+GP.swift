import CareRecords

extension PatientHistoryWriter {
    /// The GP practice: problem list, repeat and acute medicines, allergies, results (its own and those copied from
    /// the trust's lab), immunisations and appointments.
    mutating func writeGP() {
        let gp = SimulatedProviderID.gp
        let doctor = rng.pick(SyntheticNames.clinicians)

        writeConditions(to: gp, onlyTrustHeld: false)
        writeAllergies(to: gp, recordedAfter: profile.birthDay.adding(days: 365 * 16))

        for medicine in profile.medicines {
            // After a discharge the GP's repeat starts when the letter arrives; otherwise when it was first prescribed.
            let started = medicine.onDischarge ? (profile.admission?.end.adding(days: 6) ?? medicine.started) : medicine.started
            add(
                .medicationStatement(
                    SimulatedMedication(
                        id: newID(gp, "med"), medicine: medicine.entry.coding, dosageText: medicine.communityDose,
                        status: "active", date: started.text, prescribingType: "repeat", prescriber: doctor)),
                to: gp)
        }
        var courses = ClinicalCatalogue.acuteCourses
        if profile.isAllergicToPenicillin {
            courses.removeAll { $0.medicine.display?.hasPrefix("Amoxicillin") == true }
        }
        for course in rng.pick(profile.isDemo ? 1 : rng.int(in: 0...2), of: courses) {
            let day = SimulatedDay.reference.adding(days: -rng.int(in: 30...720))
            add(
                .medicationStatement(
                    SimulatedMedication(
                        id: newID(gp, "med"), medicine: course.medicine, dosageText: course.dose, status: "active",
                        date: day.text, prescribingType: "acute", prescriber: doctor, endDate: day.adding(days: 5).text)),
                to: gp)
        }

        for order in profile.labOrders where order.copiedToGP {
            _ = writeLabResults(order, to: gp)
        }

        let eligibleForFlu = profile.age >= 65 || profile.conditions.contains { !$0.entry.isMentalHealth }
        if eligibleForFlu {
            for yearsAgo in 0..<(profile.isDemo ? 2 : rng.int(in: 1...3)) {
                let (year, _, _) = SimulatedDay.reference.components
                let day = SimulatedDay(year: year - yearsAgo, month: 10, day: rng.int(in: 1...28))
                writeImmunisation(ClinicalCatalogue.fluVaccine, on: day, by: doctor)
            }
        }
        if profile.age >= 65 {
            writeImmunisation(
                ClinicalCatalogue.pneumococcalVaccine, on: profile.birthDay.adding(days: 65 * 365 + rng.int(in: 30...400)),
                by: doctor)
        }
        if profile.isDemo || rng.chance(0.7) {
            writeImmunisation(
                ClinicalCatalogue.covidVaccine, on: SimulatedDay(year: 2025, month: 4, day: rng.int(in: 1...28)),
                by: doctor)
        }

        for _ in 0..<(profile.isDemo ? 2 : rng.int(in: 1...3)) {
            let day = SimulatedDay.reference.adding(days: -rng.int(in: 7...400))
            let hour = rng.int(in: 8...17)
            add(
                .appointment(
                    SimulatedAppointment(
                        id: newID(gp, "appt"), serviceType: ClinicalCatalogue.generalPractice,
                        status: rng.chance(0.9) ? "fulfilled" : "noshow", description: "GP consultation",
                        start: day.at(hour: hour, minute: 10), end: day.at(hour: hour, minute: 20), minutes: 10,
                        practitioner: doctor)),
                to: gp)
        }
        if profile.isDemo || rng.chance(0.5) {
            let day = SimulatedDay.reference.adding(days: rng.int(in: 2...30))
            add(
                .appointment(
                    SimulatedAppointment(
                        id: newID(gp, "appt"), serviceType: ClinicalCatalogue.generalPractice, status: "booked",
                        description: "Long-term conditions review", start: day.at(hour: 9, minute: 30),
                        end: day.at(hour: 9, minute: 50), minutes: 20, practitioner: rng.pick(SyntheticNames.nurses))),
                to: gp)
        }
    }

    private mutating func writeImmunisation(_ vaccine: Coding, on day: SimulatedDay, by performer: String) {
        guard day < SimulatedDay.reference, day > profile.birthDay else { return }
        let gp = SimulatedProviderID.gp
        let lotPrefix =
            switch vaccine {
            case ClinicalCatalogue.fluVaccine: "FL"
            case ClinicalCatalogue.pneumococcalVaccine: "PN"
            default: "CV"
            }
        let lot = lotPrefix + String(rng.int(in: 10000...99999))
        add(
            .immunisation(
                SimulatedImmunisation(
                    id: newID(gp, "imm"), vaccine: vaccine, date: day.at(hour: 11, minute: 0), lotNumber: lot,
                    performer: performer)),
            to: gp)
    }
}
