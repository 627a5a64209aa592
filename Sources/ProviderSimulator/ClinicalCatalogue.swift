import CareRecords

/// The small built-in catalogues the synthetic histories are drawn from. Every code is a real SNOMED CT, dm+d or
/// LOINC code with its preferred display, so that decoders, the merge and a clinician reading the demo all see
/// realistic data; only the people, the organisations and the values are invented.
enum ClinicalCatalogue {
    static func snomed(_ code: String, _ display: String) -> Coding {
        Coding(system: Coding.System.snomedCT, code: code, display: display)
    }

    static func dmd(_ code: String, _ display: String) -> Coding {
        Coding(system: Coding.System.dmd, code: code, display: display)
    }

    static func loinc(_ code: String, _ display: String) -> Coding {
        Coding(system: Coding.System.loinc, code: code, display: display)
    }
}

/// A medicine with the dose instruction usually written for it and the one written after a dose change (the
/// near-match a merge must flag rather than collapse).
struct CatalogueMedicine: Sendable {
    var coding: Coding
    var usualDose: String
    var changedDose: String
}

extension ClinicalCatalogue {
    // dm+d VMP codes. Olanzapine and apixaban are the current dm+d VMP ids as listed in public NHS codelists;
    // the others are long-standing VMP ids (several are now dm+d "previous identifiers", still valid as codes).
    static let metformin = CatalogueMedicine(
        coding: dmd("325278007", "Metformin 500mg tablets"),
        usualDose: "One tablet twice a day with meals", changedDose: "Two tablets twice a day with meals")
    static let ramipril = CatalogueMedicine(
        coding: dmd("318906001", "Ramipril 10mg capsules"),
        usualDose: "One capsule once a day", changedDose: "One capsule once a day in the evening")
    static let amlodipine = CatalogueMedicine(
        coding: dmd("319283006", "Amlodipine 5mg tablets"),
        usualDose: "One tablet once a day", changedDose: "Two tablets once a day")
    static let bisoprolol = CatalogueMedicine(
        coding: dmd("318590006", "Bisoprolol 5mg tablets"),
        usualDose: "One tablet each morning", changedDose: "Half a tablet each morning")
    static let furosemide = CatalogueMedicine(
        coding: dmd("317972000", "Furosemide 40mg tablets"),
        usualDose: "One tablet each morning", changedDose: "Two tablets each morning")
    static let apixaban = CatalogueMedicine(
        coding: dmd("42206511000001102", "Apixaban 5mg tablets"),
        usualDose: "One tablet twice a day", changedDose: "Half a tablet twice a day")
    static let olanzapine = CatalogueMedicine(
        coding: dmd("42275511000001103", "Olanzapine 10mg tablets"),
        usualDose: "One tablet at night", changedDose: "One and a half tablets at night")
    static let lithium = CatalogueMedicine(
        coding: dmd("36040211000001104", "Lithium carbonate 450mg modified-release tablets"),
        usualDose: "One tablet twice a day", changedDose: "One tablet at night")
    static let paracetamol = CatalogueMedicine(
        coding: dmd("322236009", "Paracetamol 500mg tablets"),
        usualDose: "One or two tablets up to four times a day when required",
        changedDose: "Two tablets four times a day")

    /// Short courses a GP prescribes (acute medication). None of these is ever a repeat, so they never near-match.
    static let acuteCourses: [(medicine: Coding, dose: String)] = [
        (dmd("39732411000001106", "Amoxicillin 500mg capsules"), "One capsule three times a day for 5 days"),
        (dmd("41946511000001109", "Clarithromycin 500mg tablets"), "One tablet twice a day for 5 days"),
        (dmd("41948311000001104", "Doxycycline 100mg capsules"), "Two capsules on day one, then one capsule daily"),
    ]

    /// What ambulance crews record giving. Paracetamol is given only when no other provider lists it, so a one-off
    /// dose never reads as a dose conflict with a regular prescription.
    static let ambulanceParacetamolDose = "1 g (two tablets) by mouth, given once"
}

/// A long-term condition, the medicines that usually go with it, and the tests that monitor it.
struct CatalogueCondition: Sendable {
    var coding: Coding
    var isMentalHealth: Bool
    var medicines: [CatalogueMedicine]
    var monitoring: [LabTestKind]
    var weight: Double
}

extension ClinicalCatalogue {
    static let schizophrenia = CatalogueCondition(
        coding: snomed("58214004", "Schizophrenia"), isMentalHealth: true, medicines: [olanzapine],
        monitoring: [.hba1c, .cholesterol], weight: 1)
    static let bipolar = CatalogueCondition(
        coding: snomed("13746004", "Bipolar disorder"), isMentalHealth: true, medicines: [lithium],
        monitoring: [.lithium, .creatinine, .tsh], weight: 1)
    static let depression = CatalogueCondition(
        coding: snomed("35489007", "Depressive disorder"), isMentalHealth: true, medicines: [],
        monitoring: [], weight: 1.2)
    static let dementia = CatalogueCondition(
        coding: snomed("52448006", "Dementia"), isMentalHealth: true, medicines: [], monitoring: [.haemoglobin],
        weight: 0.6)

    static let type2Diabetes = CatalogueCondition(
        coding: snomed("44054006", "Type 2 diabetes mellitus"), isMentalHealth: false, medicines: [metformin],
        monitoring: [.hba1c, .creatinine], weight: 1.2)
    static let hypertension = CatalogueCondition(
        coding: snomed("38341003", "Hypertensive disorder"), isMentalHealth: false,
        medicines: [ramipril, amlodipine], monitoring: [.sodium, .potassium, .creatinine], weight: 1.5)
    static let atrialFibrillation = CatalogueCondition(
        coding: snomed("49436004", "Atrial fibrillation"), isMentalHealth: false, medicines: [apixaban, bisoprolol],
        monitoring: [.haemoglobin, .creatinine], weight: 0.8)
    static let heartFailure = CatalogueCondition(
        coding: snomed("84114007", "Heart failure"), isMentalHealth: false, medicines: [furosemide, bisoprolol],
        monitoring: [.sodium, .potassium, .creatinine], weight: 0.5)
    static let copd = CatalogueCondition(
        coding: snomed("13645005", "Chronic obstructive lung disease"), isMentalHealth: false, medicines: [],
        monitoring: [.haemoglobin], weight: 0.7)
    static let asthma = CatalogueCondition(
        coding: snomed("195967001", "Asthma"), isMentalHealth: false, medicines: [], monitoring: [], weight: 0.6)

    static let mentalHealthConditions = [schizophrenia, bipolar, depression, dementia]
    static let physicalConditions = [type2Diabetes, hypertension, atrialFibrillation, heartFailure, copd, asthma]
}

/// A substance someone can be allergic to, with the reactions recorded for it.
struct CatalogueAllergen: Sendable {
    var substance: Coding
    var category: String
    var reactions: [Coding]
}

extension ClinicalCatalogue {
    static let urticaria = snomed("126485001", "Urticaria")
    static let anaphylaxis = snomed("39579001", "Anaphylaxis")
    static let angioedema = snomed("41291007", "Angioedema")
    static let rash = snomed("271807003", "Eruption of skin")
    static let wheeze = snomed("56018004", "Wheezing")
    static let nausea = snomed("422587007", "Nausea")

    static let penicillinAllergen = CatalogueAllergen(
        substance: snomed("764146007", "Penicillin"), category: "medication", reactions: [urticaria, rash, anaphylaxis])
    static let allergens: [CatalogueAllergen] = [
        penicillinAllergen,
        CatalogueAllergen(substance: snomed("387494007", "Codeine"), category: "medication", reactions: [nausea, rash]),
        CatalogueAllergen(
            substance: snomed("387207008", "Ibuprofen"), category: "medication", reactions: [wheeze, angioedema]),
        CatalogueAllergen(substance: snomed("387458008", "Aspirin"), category: "medication", reactions: [wheeze, urticaria]),
        CatalogueAllergen(
            substance: snomed("762952008", "Peanut"), category: "food", reactions: [anaphylaxis, angioedema, urticaria]),
        CatalogueAllergen(substance: snomed("111088007", "Latex"), category: "environment", reactions: [urticaria, rash]),
    ]
}

/// The blood tests the simulated labs report, with UCUM units and plausible ranges.
enum LabTestKind: Sendable, CaseIterable {
    case hba1c, sodium, potassium, creatinine, haemoglobin, lithium, tsh, cholesterol

    var coding: Coding {
        switch self {
        case .hba1c: ClinicalCatalogue.loinc("59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol")
        case .sodium: ClinicalCatalogue.loinc("2951-2", "Sodium [Moles/volume] in Serum or Plasma")
        case .potassium: ClinicalCatalogue.loinc("2823-3", "Potassium [Moles/volume] in Serum or Plasma")
        case .creatinine: ClinicalCatalogue.loinc("14682-9", "Creatinine [Moles/volume] in Serum or Plasma")
        case .haemoglobin: ClinicalCatalogue.loinc("718-7", "Hemoglobin [Mass/volume] in Blood")
        case .lithium: ClinicalCatalogue.loinc("14334-7", "Lithium [Moles/volume] in Serum or Plasma")
        case .tsh: ClinicalCatalogue.loinc("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma")
        case .cholesterol: ClinicalCatalogue.loinc("14647-2", "Cholesterol [Moles/volume] in Serum or Plasma")
        }
    }

    /// A short tag used in accession numbers.
    var tag: String {
        switch self {
        case .hba1c: "A1C"
        case .sodium: "NA"
        case .potassium: "K"
        case .creatinine: "CRE"
        case .haemoglobin: "HB"
        case .lithium: "LI"
        case .tsh: "TSH"
        case .cholesterol: "CHOL"
        }
    }

    var unit: String {
        switch self {
        case .hba1c: "mmol/mol"
        case .sodium, .potassium, .lithium, .cholesterol: "mmol/L"
        case .creatinine: "umol/L"
        case .haemoglobin: "g/L"
        case .tsh: "m[IU]/L"
        }
    }

    /// Drawn values (slightly wider than the reference range, so some results are abnormal), and decimals.
    var drawn: (low: Double, high: Double, decimals: Int) {
        switch self {
        case .hba1c: (38, 78, 0)
        case .sodium: (131, 146, 0)
        case .potassium: (3.3, 5.6, 1)
        case .creatinine: (55, 140, 0)
        case .haemoglobin: (105, 165, 0)
        case .lithium: (0.35, 1.05, 2)
        case .tsh: (0.2, 6.5, 2)
        case .cholesterol: (3.2, 7.4, 1)
        }
    }

    var referenceRange: (low: String?, high: String?) {
        switch self {
        case .hba1c: (nil, "48")
        case .sodium: ("133", "146")
        case .potassium: ("3.5", "5.3")
        case .creatinine: ("59", "104")
        case .haemoglobin: ("130", "180")
        case .lithium: ("0.4", "1.0")
        case .tsh: ("0.27", "4.2")
        case .cholesterol: (nil, "5.0")
        }
    }
}

extension ClinicalCatalogue {
    // Vital signs and other observations.
    static let heartRate = loinc("8867-4", "Heart rate")
    static let oxygenSaturation = loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
    static let respiratoryRate = loinc("9279-1", "Respiratory rate")
    static let bodyTemperature = loinc("8310-5", "Body temperature")
    static let systolicPressure = loinc("8480-6", "Systolic blood pressure")
    static let bodyWeight = loinc("29463-7", "Body weight")
    static let news2 = snomed(
        "1104051000000101", "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score")
    static let fall = snomed("1912002", "Fall")
    /// AF burden has no LOINC or SNOMED CT observable, so the monitoring service uses its own code system, as real
    /// device vendors do.
    static let afBurden = Coding(
        system: "https://fhir.caregate.example/CodeSystem/cardiac-monitoring", code: "af-burden",
        display: "Atrial fibrillation burden")

    // Encounters.
    static let hospitalAdmission = snomed("32485007", "Hospital admission")
    static let consultation = snomed("11429006", "Consultation")
    static let homeVisit = snomed("439708006", "Home visit")
    static let encounterForProblem = snomed("185347001", "Encounter for problem")
    static let telephoneEncounter = snomed("185317003", "Telephone encounter")

    // Reasons people call 111 or an ambulance.
    static let presentingComplaints: [Coding] = [
        snomed("29857009", "Chest pain"), snomed("80313002", "Palpitations"), snomed("267036007", "Dyspnea"),
        snomed("48694002", "Anxiety"), snomed("21522001", "Abdominal pain"), snomed("1912002", "Fall"),
    ]

    // Services (appointment service types).
    static let psychiatry = snomed("394587001", "Psychiatry")
    static let generalPractice = snomed("788007007", "General practice service")

    // Documents: the trust's and NHS 111's are CDA documents, typed with LOINC document codes as CDA expects.
    static let dischargeSummary = loinc("18842-5", "Discharge summary")
    static let consultNote = loinc("11488-4", "Consult note")
    static let diagnosticReportDocument = snomed("721981007", "Diagnostic studies report")
    static let telephoneNote = loinc("34748-4", "Telephone encounter Note")

    // CDA section codes (LOINC). A discharge summary's medicines, allergies and problems sections carry coded
    // entries as well as narrative.
    static let hospitalCourseSection = loinc("8648-8", "Hospital course Narrative")
    static let dischargeDiagnosisSection = loinc("11535-2", "Hospital discharge Dx Narrative")
    static let medicationsSection = loinc("10160-0", "History of Medication use Narrative")
    static let allergiesSection = loinc("48765-2", "Allergies and adverse reactions Document")
    static let problemsSection = loinc("11450-4", "Problem list - Reported")
    static let planOfCareSection = loinc("18776-5", "Plan of care note")
    static let evaluationSection = loinc("51848-0", "Evaluation note")
    static let reasonForCallSection = loinc("46239-0", "Chief complaint+Reason for visit Narrative")
    static let instructionsSection = loinc("69730-0", "Instructions")

    static let carePlan = snomed("734163000", "Care plan")

    /// The code of a lab report covering a whole order (several tests from one specimen), deliberately not any one
    /// test's code, so a report can never be mistaken for one of its own results.
    static let laboratoryProcedure = snomed("108252007", "Laboratory procedure")

    // Vaccines (dm+d).
    static let fluVaccine = dmd(
        "11278411000001109",
        "Influenza vaccine (split virion, inactivated) suspension for injection 0.5ml pre-filled syringes (Pfizer Ltd)")
    static let pneumococcalVaccine = dmd(
        "10245211000001108",
        "Pneumococcal polysaccharide conjugated vaccine (adsorbed) suspension for injection 0.5ml pre-filled syringes")
    static let covidVaccine = dmd(
        "39115611000001103",
        "Comirnaty COVID-19 mRNA Vaccine 30micrograms/0.3ml dose concentrate for dispersion for injection multidose vials (Pfizer Ltd)"
    )
}

/// Invented but ordinary names, so a demo reads naturally without describing anyone real.
enum SyntheticNames {
    static let femaleGiven = [
        "Amara", "Beatrice", "Chloe", "Deborah", "Eleanor", "Fatima", "Grace", "Hannah", "Imogen", "Joyce", "Keziah",
        "Lucy", "Margaret", "Nia", "Olivia", "Priya", "Rosa", "Sadia", "Tamsin", "Wendy",
    ]
    static let maleGiven = [
        "Adebayo", "Bernard", "Callum", "Declan", "Edward", "Farhan", "George", "Harold", "Ivan", "Jamal", "Kwame",
        "Leonard", "Mohammed", "Nathan", "Oliver", "Patrick", "Rahul", "Samuel", "Terence", "William",
    ]
    static let family = [
        "Abbott", "Adeyemi", "Bancroft", "Chaudhry", "Delaney", "Ellison", "Fairweather", "Gallagher", "Hussain",
        "Iqbal", "Jennings", "Kowalski", "Lindqvist", "Mensah", "Nakamura", "Okafor", "Pemberton", "Quinlan",
        "Rahman", "Sandoval", "Thornbury", "Underwood", "Vasquez", "Whitlock", "Yeboah",
    ]
    static let clinicians = [
        "Dr A Okonjo", "Dr B Hartley", "Dr C Mistry", "Dr D Fairbairn", "Dr E Lindgren", "Dr F Osei",
    ]
    static let nurses = ["RN J Pereira", "RN K Walsh", "RN L Adebayo", "RN M Novak"]
    static let paramedics = ["Paramedic S Clarke", "Paramedic T Ahmed", "Paramedic R Byrne"]
}
