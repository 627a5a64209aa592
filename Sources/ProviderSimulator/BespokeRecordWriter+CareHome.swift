import CareRecords

extension BespokeRecordWriter {
    /// ResidentRecord: Home, Resident, CarePlans, MedicationAdministrationRecord, Allergies, Observations (Weight
    /// and Fall, in the order recorded); each container only when it has something in it.
    static func residentRecord(
        _ xml: inout XMLWriter, provider: SimulatedProviderDefinition, patient: SyntheticPatient?
    ) {
        xml.open("ResidentRecord", ["xmlns": Layout.careHome.namespace])
        organisation(&xml, "Home", provider)
        if let patient {
            demographics(&xml, "Resident", patient)
            let resources = patient.resources(at: provider.id)
            let plans = resources.compactMap { if case .carePlan(let plan) = $0 { plan } else { nil } }
            let medicines = resources.compactMap { if case .medicationStatement(let medicine) = $0 { medicine } else { nil } }
            let allergies = resources.compactMap { if case .allergy(let allergy) = $0 { allergy } else { nil } }
            let observations = resources.compactMap { if case .observation(let observation) = $0 { observation } else { nil } }
            if !plans.isEmpty {
                xml.element("CarePlans") { for plan in plans { writeCarePlan(&$0, plan) } }
            }
            if !medicines.isEmpty {
                xml.element("MedicationAdministrationRecord") { for medicine in medicines { writeMedicine(&$0, medicine) } }
            }
            if !allergies.isEmpty {
                xml.element("Allergies") { for allergy in allergies { writeAllergy(&$0, allergy) } }
            }
            if !observations.isEmpty {
                xml.element("Observations") { for observation in observations { writeObservation(&$0, observation) } }
            }
        }
        xml.close("ResidentRecord")
    }

    /// CarePlan: Title, Category, Status, Created, Author, Description, Activity*.
    private static func writeCarePlan(_ xml: inout XMLWriter, _ plan: SimulatedCarePlan) {
        xml.element("CarePlan", ["id": plan.id]) {
            $0.text("Title", plan.title)
            coded(&$0, "Category", plan.category, impliedSystem: Coding.System.snomedCT)
            $0.text("Status", plan.status)
            $0.text("Created", plan.created)
            $0.text("Author", plan.author)
            $0.text("Description", plan.description)
            for activity in plan.activities { $0.text("Activity", activity) }
        }
    }

    /// Medicine: DmdCode, Name, Dose, Started, Status, Administration* (Given, By, Outcome).
    private static func writeMedicine(_ xml: inout XMLWriter, _ medicine: SimulatedMedication) {
        xml.element("Medicine", ["id": medicine.id]) {
            $0.text("DmdCode", medicine.medicine.code)
            $0.text("Name", medicine.medicine.display)
            $0.text("Dose", medicine.dosageText)
            $0.text("Started", medicine.date)
            $0.text("Status", medicine.status)
            for given in medicine.administrations {
                $0.element("Administration") {
                    $0.text("Given", given)
                    $0.text("By", medicine.prescriber)
                    $0.text("Outcome", "given")
                }
            }
        }
    }

    /// Allergy: Substance, Category, Criticality, Reaction, Severity, Recorded.
    private static func writeAllergy(_ xml: inout XMLWriter, _ allergy: SimulatedAllergy) {
        xml.element("Allergy", ["id": allergy.id]) {
            coded(&$0, "Substance", allergy.substance, impliedSystem: Coding.System.snomedCT)
            $0.text("Category", allergy.category)
            $0.text("Criticality", allergy.criticality)
            coded(&$0, "Reaction", allergy.reaction, impliedSystem: Coding.System.snomedCT)
            $0.text("Severity", allergy.severity)
            $0.text("Recorded", allergy.recordedDate)
        }
    }

    /// Weight: Measured, Code, Value, Unit, RecordedBy. Fall: Occurred, Code, Account, RecordedBy. A measurement is
    /// a weight; an account in words is a fall.
    private static func writeObservation(_ xml: inout XMLWriter, _ observation: SimulatedObservation) {
        let measured: (value: String, unit: String)
        switch observation.value {
        case .quantity(let value, let unit): measured = (value, unit)
        case .integer(let number): measured = (String(number), "1")
        case .text(let account):
            xml.element("Fall", ["id": observation.id]) {
                $0.text("Occurred", observation.effectiveDateTime)
                coded(&$0, "Code", observation.code, impliedSystem: Coding.System.snomedCT)
                $0.text("Account", account)
                $0.text("RecordedBy", observation.performer)
            }
            return
        }
        xml.element("Weight", ["id": observation.id]) {
            $0.text("Measured", observation.effectiveDateTime)
            coded(&$0, "Code", observation.code, impliedSystem: Coding.System.loinc)
            $0.text("Value", measured.value)
            $0.text("Unit", measured.unit)
            $0.text("RecordedBy", observation.performer)
        }
    }
}
