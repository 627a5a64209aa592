import CareRecords

extension PatientHistoryWriter {
    /// The mental health trust: admissions, clinic contacts, discharge medicines, physical-health monitoring bloods,
    /// care plans and diagnoses in its FHIR record; its discharge summaries and clinic letters in its document feed
    /// (CDA). Ids come from one sequence across both, as they would from one electronic patient record.
    mutating func writeMentalHealthTrust() {
        let trust = SimulatedProviderID.mhTrust
        let documents = SimulatedProviderID.mhTrustDocuments
        let trustName = SimulatedProviderDefinition.mentalHealthTrust.name
        let psychiatrist = rng.pick(SyntheticNames.clinicians)
        let mainCondition = profile.conditions.first { $0.entry.isMentalHealth }?.entry.coding

        writeConditions(to: trust, onlyTrustHeld: true)
        writeAllergies(to: trust, recordedAfter: profile.conditions.map(\.onset).min() ?? SimulatedDay.reference)

        if let admission = profile.admission {
            let admissionID = newID(trust, "enc")
            let stay = SimulatedEncounter(
                id: admissionID, type: ClinicalCatalogue.hospitalAdmission, classCode: "IMP",
                classDisplay: "inpatient encounter", status: "finished",
                start: admission.start.at(hour: 16, minute: 40), end: admission.end.at(hour: 11, minute: 15),
                reason: mainCondition, serviceProvider: trustName)
            add(.encounter(stay), to: trust)
            // The trust's FHIR record keeps its discharge prescriptions, and the discharge summary restates them: the
            // same prescription (same id) reaches the gateway twice from the trust, and once more from the GP.
            var prescriptions: [SimulatedMedication] = []
            for medicine in profile.medicines where medicine.onDischarge {
                let prescription = SimulatedMedication(
                    id: newID(trust, "med"), medicine: medicine.entry.coding, dosageText: medicine.entry.usualDose,
                    status: "active", date: admission.end.at(hour: 10, minute: 30), prescribingType: "discharge",
                    prescriber: psychiatrist)
                prescriptions.append(prescription)
                add(.medicationRequest(prescription), to: trust)
            }
            let medicineLines = prescriptions.map { "- \($0.medicine.display ?? ""): \($0.dosageText)" }
            let content = """
                Discharge summary
                Admitted \(admission.start.text), discharged \(admission.end.text) to usual residence.
                Diagnosis: \(mainCondition?.display ?? "see problem list").
                Medicines on discharge:
                \(medicineLines.isEmpty ? "- none" : medicineLines.joined(separator: "\n"))
                Follow-up: community mental health team within 7 days.
                """
            var summary = SimulatedDocument(
                id: newID(trust, "doc"), masterIdentifier: nil, type: ClinicalCatalogue.dischargeSummary,
                date: admission.end.at(hour: 15, minute: 5), description: "Inpatient discharge summary",
                author: psychiatrist, title: "Discharge summary", content: content, encounter: stay)
            summary.medications = prescriptions
            summary.allergies = recorded(at: trust).compactMap {
                if case .allergy(let allergy) = $0 { allergy } else { nil }
            }
            summary.problems = recorded(at: trust).compactMap {
                if case .condition(let condition) = $0 { condition } else { nil }
            }
            summary.sections = [
                SimulatedDocumentSection(
                    code: ClinicalCatalogue.hospitalCourseSection, title: "Admission",
                    paragraphs: ["Admitted \(admission.start.text), discharged \(admission.end.text) to usual residence."]),
                SimulatedDocumentSection(
                    code: ClinicalCatalogue.dischargeDiagnosisSection, title: "Diagnosis",
                    paragraphs: ["\(mainCondition?.display ?? "See problem list")."]),
                SimulatedDocumentSection(
                    code: ClinicalCatalogue.medicationsSection, title: "Medicines on discharge",
                    paragraphs: prescriptions.isEmpty ? ["No medicines on discharge."] : []),
            ]
            if !summary.allergies.isEmpty {
                summary.sections.append(
                    SimulatedDocumentSection(
                        code: ClinicalCatalogue.allergiesSection, title: "Allergies and adverse reactions", paragraphs: []))
            }
            if !summary.problems.isEmpty {
                summary.sections.append(
                    SimulatedDocumentSection(code: ClinicalCatalogue.problemsSection, title: "Problems", paragraphs: []))
            }
            summary.sections.append(
                SimulatedDocumentSection(
                    code: ClinicalCatalogue.planOfCareSection, title: "Follow-up",
                    paragraphs: ["Community mental health team within 7 days."]))
            add(.document(summary), to: documents)
        }

        let clinicCount = profile.isDemo ? 2 : rng.int(in: 1...3)
        for _ in 0..<clinicCount {
            let day = SimulatedDay.reference.adding(days: -rng.int(in: 14...700))
            let encounterID = newID(trust, "enc")
            let isHomeVisit = rng.chance(0.3)
            let contact = SimulatedEncounter(
                id: encounterID, type: isHomeVisit ? ClinicalCatalogue.homeVisit : ClinicalCatalogue.consultation,
                classCode: isHomeVisit ? "HH" : "AMB", classDisplay: isHomeVisit ? "home health" : "ambulatory",
                status: "finished", start: day.at(hour: 10, minute: 0), end: day.at(hour: 10, minute: 50),
                reason: mainCondition, serviceProvider: trustName)
            add(.encounter(contact), to: trust)
            var letter = SimulatedDocument(
                id: newID(trust, "doc"), masterIdentifier: nil, type: ClinicalCatalogue.consultNote,
                date: day.adding(days: 3).at(hour: 9, minute: 30),
                description: isHomeVisit ? "Community team visit letter" : "Outpatient clinic letter",
                author: psychiatrist, title: isHomeVisit ? "Home visit letter" : "Clinic letter",
                content: """
                    Clinic letter to GP
                    Seen \(day.text). Mental state settled; no risk issues identified.
                    Plan: continue current medicines; review in three months.
                    """,
                encounter: contact)
            letter.sections = [
                SimulatedDocumentSection(
                    code: ClinicalCatalogue.evaluationSection, title: "Assessment",
                    paragraphs: ["Seen \(day.text). Mental state settled; no risk issues identified."]),
                SimulatedDocumentSection(
                    code: ClinicalCatalogue.planOfCareSection, title: "Plan",
                    paragraphs: ["Continue current medicines; review in three months."]),
            ]
            add(.document(letter), to: documents)
            add(
                .appointment(
                    SimulatedAppointment(
                        id: newID(trust, "appt"), serviceType: ClinicalCatalogue.psychiatry, status: "fulfilled",
                        description: isHomeVisit ? "Community mental health team visit" : "Psychiatry outpatient review",
                        start: day.at(hour: 10, minute: 0), end: day.at(hour: 10, minute: 45), minutes: 45,
                        practitioner: psychiatrist)),
                to: trust)
        }
        let next = SimulatedDay.reference.adding(days: rng.int(in: 5...90))
        add(
            .appointment(
                SimulatedAppointment(
                    id: newID(trust, "appt"), serviceType: ClinicalCatalogue.psychiatry, status: "booked",
                    description: "Psychiatry outpatient review", start: next.at(hour: 14, minute: 0),
                    end: next.at(hour: 14, minute: 45), minutes: 45, practitioner: psychiatrist)),
            to: trust)

        for order in profile.labOrders where order.byTrust {
            let resultIDs = writeLabResults(order, to: trust)
            let abnormal = order.results.contains { test, value in
                let range = test.referenceRange
                let number = Double(value) ?? 0
                return (range.low.flatMap(Double.init).map { number < $0 } ?? false)
                    || (range.high.flatMap(Double.init).map { number > $0 } ?? false)
            }
            add(
                .labReport(
                    SimulatedLabReport(
                        id: newID(trust, "rep"), code: ClinicalCatalogue.laboratoryProcedure,
                        identifier: EntryIdentifier(system: Self.labReportSystem, value: order.accessionStem),
                        effectiveDateTime: order.day.at(hour: order.hour, minute: order.minute),
                        issued: order.day.at(hour: min(order.hour + 5, 23), minute: order.minute), resultIDs: resultIDs,
                        conclusion: abnormal ? "Some results outside the reference range; see individual results."
                            : "All results within the reference range.",
                        performer: "Thameside Pathology")),
                to: trust)
        }

        if let monitoring = profile.monitoring, monitoring.copiedToTrust {
            add(.document(cardiacReport(monitoring, id: newID(trust, "doc"))), to: trust)
        }

        let planStart = (profile.admission?.end ?? SimulatedDay.reference.adding(days: -rng.int(in: 30...300)))
        add(
            .carePlan(
                SimulatedCarePlan(
                    id: newID(trust, "cp"), category: ClinicalCatalogue.carePlan,
                    title: "Care Programme Approach care plan",
                    description: "Community mental health care coordinated under the Care Programme Approach.",
                    status: "active", created: planStart.text, author: psychiatrist,
                    activities: [
                        "Care coordinator contact at least fortnightly",
                        "Annual physical health check including bloods and ECG",
                        "Medication review at each outpatient appointment",
                    ])),
            to: trust)
        if profile.isDemo || rng.chance(0.6) {
            add(
                .carePlan(
                    SimulatedCarePlan(
                        id: newID(trust, "cp"), category: ClinicalCatalogue.carePlan, title: "Crisis and contingency plan",
                        description: "What to do if early warning signs of relapse appear.",
                        status: "active", created: planStart.text, author: psychiatrist,
                        activities: [
                            "Early warning signs: poor sleep, withdrawing from family",
                            "Contact the crisis line 24 hours a day",
                        ])),
                to: trust)
        }
    }

    /// The cardiac monitoring report; the trust's copy carries the same document id as the original.
    func cardiacReport(_ monitoring: (start: SimulatedDay, days: Int, copiedToTrust: Bool), id: String)
        -> SimulatedDocument
    {
        let hasAF = profile.hasCondition(ClinicalCatalogue.atrialFibrillation)
        let reported = monitoring.start.adding(days: monitoring.days + 4)
        return SimulatedDocument(
            id: id,
            masterIdentifier: EntryIdentifier(
                system: Self.documentSystem, value: "DOC-CARD-\(SimulatedDay.pad(profile.index, 4))-1"),
            type: ClinicalCatalogue.diagnosticReportDocument, date: reported.at(hour: 12, minute: 0),
            description: "\(monitoring.days * 24)-hour ambulatory ECG monitoring report",
            author: SimulatedProviderDefinition.cardiacMonitoring.name,
            title: "Ambulatory ECG report",
            content: """
                Ambulatory ECG monitoring, \(monitoring.days * 24) hours from \(monitoring.start.text).
                Findings: \(hasAF ? "paroxysmal atrial fibrillation" : "sinus rhythm throughout; no significant arrhythmia").
                """,
            encounter: nil)
    }
}
