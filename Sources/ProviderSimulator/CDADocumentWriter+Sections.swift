import CareRecords

extension CDADocumentWriter {
    static let oralRoute = Coding(system: Coding.System.snomedCT, code: "26643006", display: "Oral route")

    /// StructuredBody's components, one per section. A discharge summary's medicines, allergies and problems
    /// sections (known by their LOINC codes) carry a narrative table whose cells the coded entries reference
    /// (`#med-1`, `#allergy-1`, `#problem-1`); every other section is paragraphs. A document with no sections
    /// gets one holding its plain text, a paragraph a line.
    static func writeSections(
        _ xml: inout XMLWriter, _ document: SimulatedDocument, provider: SimulatedProviderDefinition,
        roots: IdentifierRoots
    ) {
        let sections =
            document.sections.isEmpty
            ? [SimulatedDocumentSection(code: nil, title: document.title, paragraphs: document.content.split(separator: "\n").map(String.init))]
            : document.sections
        for section in sections {
            // Section: id, code, title, text, confidentialityCode, languageCode, subject, author, informant, entry,
            // component.
            xml.element("component") {
                $0.element("section") {
                    if let code = section.code { $0.coded("code", code) }
                    $0.text("title", section.title)
                    switch section.code {
                    case ClinicalCatalogue.medicationsSection? where !document.medications.isEmpty:
                        medications(&$0, document.medications, roots: roots)
                    case ClinicalCatalogue.allergiesSection? where !document.allergies.isEmpty:
                        allergies(&$0, document.allergies, roots: roots)
                    case ClinicalCatalogue.problemsSection? where !document.problems.isEmpty:
                        problems(&$0, document.problems, roots: roots)
                    default:
                        $0.element("text") {
                            for paragraph in section.paragraphs { $0.text("paragraph", paragraph) }
                        }
                    }
                }
            }
        }
    }

    /// A narrative table: one header row, then rows whose first cell or `referencedColumn` carries `ID="prefix-N"`.
    private static func table(
        _ xml: inout XMLWriter, headings: [String], rows: [[String]], idPrefix: String, referencedColumn: Int
    ) {
        xml.element("text") {
            $0.element("table") {
                $0.element("thead") {
                    $0.element("tr") { for heading in headings { $0.text("th", heading) } }
                }
                $0.element("tbody") {
                    for (number, row) in zip(1..., rows) {
                        $0.element("tr") {
                            for (column, cell) in row.enumerated() {
                                $0.text("td", cell, ["ID": column == referencedColumn ? "\(idPrefix)-\(number)" : nil])
                            }
                        }
                    }
                }
            }
        }
    }

    /// `<text>words<reference value="#id"/></text>`: the entry's words, pointing at the narrative they came from.
    private static func entryText(_ xml: inout XMLWriter, _ words: String, reference: String) {
        xml.element("text") {
            $0.characters(words)
            $0.empty("reference", ["value": "#\(reference)"])
        }
    }

    /// The medicines section: the dose text is both the narrative cell `med-N` and the entry's text.
    ///
    /// SubstanceAdministration: id, code, text, statusCode, effectiveTime, priorityCode, repeatNumber, routeCode, …,
    /// consumable (manufacturedProduct, manufacturedMaterial, code), performer, author, ….
    private static func medications(_ xml: inout XMLWriter, _ medicines: [SimulatedMedication], roots: IdentifierRoots) {
        table(
            &xml, headings: ["Medicine", "Dose"], rows: medicines.map { [$0.medicine.display ?? "", $0.dosageText] },
            idPrefix: "med", referencedColumn: 1)
        for (number, medicine) in zip(1..., medicines) {
            xml.element("entry") {
                $0.element("substanceAdministration", ["classCode": "SBADM", "moodCode": "INT"]) {
                    $0.empty("id", ["root": roots.medicationOrders, "extension": medicine.id])
                    entryText(&$0, medicine.dosageText, reference: "med-\(number)")
                    $0.empty("statusCode", ["code": medicine.status])
                    $0.element("effectiveTime", ["xsi:type": "IVL_TS"]) {
                        $0.empty("low", ["value": timestamp(medicine.date)])
                    }
                    $0.coded("routeCode", oralRoute)
                    $0.element("consumable") {
                        $0.element("manufacturedProduct", ["classCode": "MANU"]) {
                            $0.element("manufacturedMaterial") { $0.coded("code", medicine.medicine) }
                        }
                    }
                    $0.element("author") {
                        $0.empty("time", ["value": timestamp(medicine.date)])
                        $0.element("assignedAuthor") {
                            $0.empty("id", ["root": roots.staff, "extension": slug(medicine.prescriber)])
                            $0.element("assignedPerson") { $0.text("name", medicine.prescriber) }
                        }
                    }
                }
            }
        }
    }

    /// The allergies section. Each entry asserts an allergy whose substance is the consumable participant's
    /// playing entity, with the reaction as a manifestation and its severity.
    ///
    /// Observation: id, code, derivationExpr, text, statusCode, effectiveTime, priorityCode, repeatNumber,
    /// languageCode, value, interpretationCode, methodCode, targetSiteCode, subject, specimen, performer, author,
    /// informant, participant, entryRelationship, ….
    private static func allergies(_ xml: inout XMLWriter, _ allergies: [SimulatedAllergy], roots: IdentifierRoots) {
        table(
            &xml, headings: ["Substance", "Reaction", "Severity"],
            rows: allergies.map { [$0.substance.display ?? "", $0.reaction.display ?? "", $0.severity] },
            idPrefix: "allergy", referencedColumn: 0)
        for (number, allergy) in zip(1..., allergies) {
            xml.element("entry") {
                $0.element("observation", ["classCode": "OBS", "moodCode": "EVN"]) {
                    $0.empty("id", ["root": roots.allergies, "extension": allergy.id])
                    $0.empty("code", ["code": "ASSERTION", "codeSystem": OID.actCode])
                    entryText(&$0, allergy.substance.display ?? "", reference: "allergy-\(number)")
                    $0.empty("statusCode", ["code": "completed"])
                    $0.element("effectiveTime") { $0.empty("low", ["value": timestamp(allergy.recordedDate)]) }
                    $0.coded("value", allergyType(allergy.category), xsiType: "CD")
                    // Participant2: …, participantRole (…, playingEntity (code, …)).
                    $0.element("participant", ["typeCode": "CSM"]) {
                        $0.element("participantRole", ["classCode": "MANU"]) {
                            $0.element("playingEntity", ["classCode": "MMAT"]) { $0.coded("code", allergy.substance) }
                        }
                    }
                    $0.element("entryRelationship", ["typeCode": "MFST", "inversionInd": "true"]) {
                        $0.element("observation", ["classCode": "OBS", "moodCode": "EVN"]) {
                            $0.empty("code", ["code": "ASSERTION", "codeSystem": OID.actCode])
                            $0.empty("statusCode", ["code": "completed"])
                            $0.coded("value", allergy.reaction, xsiType: "CD")
                            $0.element("entryRelationship", ["typeCode": "SUBJ", "inversionInd": "true"]) {
                                $0.element("observation", ["classCode": "OBS", "moodCode": "EVN"]) {
                                    $0.empty("code", ["code": "SEV", "codeSystem": OID.actCode])
                                    $0.empty("statusCode", ["code": "completed"])
                                    $0.coded("value", severity(allergy.severity), xsiType: "CD")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The problems section: each entry a problem observation whose value is the condition.
    private static func problems(_ xml: inout XMLWriter, _ problems: [SimulatedCondition], roots: IdentifierRoots) {
        table(
            &xml, headings: ["Problem", "Since", "Status"],
            rows: problems.map { [$0.code.display ?? "", $0.onsetDate, $0.clinicalStatus] }, idPrefix: "problem",
            referencedColumn: 0)
        for (number, problem) in zip(1..., problems) {
            xml.element("entry") {
                $0.element("observation", ["classCode": "OBS", "moodCode": "EVN"]) {
                    $0.empty("id", ["root": roots.problems, "extension": problem.id])
                    $0.coded("code", ClinicalCatalogue.snomed("55607006", "Problem"))
                    entryText(&$0, problem.code.display ?? "", reference: "problem-\(number)")
                    $0.empty("statusCode", ["code": "completed"])
                    $0.element("effectiveTime") { $0.empty("low", ["value": timestamp(problem.onsetDate)]) }
                    $0.coded("value", problem.code, xsiType: "CD")
                }
            }
        }
    }

    private static func allergyType(_ category: String) -> Coding {
        switch category {
        case "medication": ClinicalCatalogue.snomed("416098002", "Allergy to drug")
        case "food": ClinicalCatalogue.snomed("414285001", "Allergy to food")
        default: ClinicalCatalogue.snomed("419199007", "Allergy to substance")
        }
    }

    private static func severity(_ severity: String) -> Coding {
        switch severity {
        case "severe": ClinicalCatalogue.snomed("24484000", "Severe")
        case "moderate": ClinicalCatalogue.snomed("6736007", "Moderate")
        default: ClinicalCatalogue.snomed("255604002", "Mild")
        }
    }
}
