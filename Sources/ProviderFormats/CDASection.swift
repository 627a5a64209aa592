import CareRecords
import XMLSupport

/// The kinds of section whose coded entries become entries of their own. Every other section is still
/// represented by the document entry, so its contents are one click away for a clinician.
enum CDASectionKind: Sendable {
    case medications
    case allergies
    case problems
    case results
    case vitalSigns
    case immunisations

    /// Recognises a section by its C-CDA templateId, else by its LOINC code.
    init?(_ section: XMLElement) {
        for templateID in section.cdaChildren("templateId") {
            if let kind = templateID.withCDAAttribute("root", { Self.byTemplateID[$0] }) ?? nil {
                self = kind
                return
            }
        }
        guard let code = section.cda("code"), !code.isNullFlavored,
            code.withCDAAttribute("codeSystem", { $0.hasSameBytes(as: CDACodeSystem.loinc) }) ?? true,
            let kind = code.withCDAAttribute("code", { Self.byLOINCCode[$0] }) ?? nil
        else { return nil }
        self = kind
    }

    private static let byTemplateID = UTF8Table<CDASectionKind>([
        ("2.16.840.1.113883.10.20.22.2.1", .medications),
        ("2.16.840.1.113883.10.20.22.2.1.1", .medications),
        ("2.16.840.1.113883.10.20.22.2.11", .medications),  // discharge medications
        ("2.16.840.1.113883.10.20.22.2.11.1", .medications),
        ("2.16.840.1.113883.10.20.22.2.44", .medications),  // admission medications
        ("2.16.840.1.113883.10.20.22.2.6", .allergies),
        ("2.16.840.1.113883.10.20.22.2.6.1", .allergies),
        ("2.16.840.1.113883.10.20.22.2.5", .problems),
        ("2.16.840.1.113883.10.20.22.2.5.1", .problems),
        ("2.16.840.1.113883.10.20.22.2.24", .problems),  // hospital discharge diagnosis
        ("2.16.840.1.113883.10.20.22.2.43", .problems),  // hospital admission diagnosis
        ("2.16.840.1.113883.10.20.22.2.3", .results),
        ("2.16.840.1.113883.10.20.22.2.3.1", .results),
        ("2.16.840.1.113883.10.20.22.2.4", .vitalSigns),
        ("2.16.840.1.113883.10.20.22.2.4.1", .vitalSigns),
        ("2.16.840.1.113883.10.20.22.2.2", .immunisations),
        ("2.16.840.1.113883.10.20.22.2.2.1", .immunisations),
    ])

    private static let byLOINCCode = UTF8Table<CDASectionKind>([
        ("10160-0", .medications),  // history of medication use
        ("10183-2", .medications),  // hospital discharge medications
        ("75311-1", .medications),  // discharge medications
        ("42346-7", .medications),  // medications on admission
        ("48765-2", .allergies),
        ("11450-4", .problems),
        ("11535-2", .problems),  // hospital discharge diagnosis
        ("46241-6", .problems),  // hospital admission diagnosis
        ("30954-2", .results),
        ("8716-3", .vitalSigns),
        ("11369-6", .immunisations),  // history of immunization
    ])

    /// The clinical statements in one section `entry` that this kind of section reads, each with the act or
    /// organizer around it (whose status and time it may inherit).
    ///
    /// C-CDA wraps statements: allergies and problems in a concern `act`, discharge medicines in an `act`,
    /// results and vital signs in an `organizer`. Older CDA puts the statement directly in the entry, as C-CDA
    /// does an immunisation. An immunisation only intended or proposed (`moodCode` other than `EVN`: a
    /// planned vaccine) is a statement of the expected shape but not one given, so it is counted and not
    /// passed on: shown, it would read as a vaccine the patient has had.
    ///
    /// Calls `body` with each, in document order, rather than returning them: most entries hold one statement,
    /// and an array for it would be made and freed for every entry of every document. Returns how many there
    /// were (none: the entry holds nothing of the expected shape).
    func forEachStatement(in entry: XMLElement, _ body: (_ statement: XMLElement, _ container: XMLElement?) -> Void)
        -> Int
    {
        guard let top = entry.children.first(where: { $0.namespace == CDADecoder.namespace }) else { return 0 }
        let wanted = self == .medications || self == .immunisations ? "substanceAdministration" : "observation"
        if top.isNamed(wanted) {
            if self == .immunisations, let mood = top.cdaAttribute("moodCode"), mood != "EVN" { return 1 }
            body(top, nil)
            return 1
        }
        var count = 0
        if top.isNamed("act") {
            for relationship in top.cdaChildren("entryRelationship")
            where relationship.attribute("inversionInd") != "true" {
                if let statement = relationship.cda(wanted), !statement.isSupportingObservation {
                    body(statement, top)
                    count += 1
                }
            }
        } else if top.isNamed("organizer") {
            for component in top.cdaChildren("component") {
                if let statement = component.cda(wanted) {
                    body(statement, top)
                    count += 1
                }
            }
        }
        return count
    }
}

extension XMLElement {
    /// True for an observation that qualifies another rather than stating a fact of its own: a severity,
    /// reaction, criticality or status observation beside a concern act's allergy or problem. Read as an
    /// allergy, "Moderate to severe" would show as something the patient is allergic to.
    fileprivate var isSupportingObservation: Bool {
        for template in cdaChildren("templateId")
        where template.withCDAAttribute("root", { Self.supportingTemplates[$0] != nil }) == true {
            return true
        }
        switch cdaCode("code") {
        case "SEV", "33999-4", "82606-5": return true
        default: return false
        }
    }

    private static let supportingTemplates = UTF8Table<Void>([
        ("2.16.840.1.113883.10.20.22.4.5", ()),  // health status
        ("2.16.840.1.113883.10.20.22.4.6", ()),  // problem status
        ("2.16.840.1.113883.10.20.22.4.8", ()),  // severity
        ("2.16.840.1.113883.10.20.22.4.9", ()),  // reaction
        ("2.16.840.1.113883.10.20.22.4.28", ()),  // allergy status
        ("2.16.840.1.113883.10.20.22.4.145", ()),  // criticality
    ])
}

/// A section being read: its kind and the narrative its entries point into.
struct CDASection {
    let kind: CDASectionKind
    let element: XMLElement
    let narrative: CDANarrative

    /// Every section of a structured body, nested ones included, in document order; only those of a kind
    /// the gateway reads are returned.
    static func readable(in document: XMLElement) -> [CDASection] {
        var sections: [CDASection] = []
        func visit(_ section: XMLElement) {
            if let kind = CDASectionKind(section) {
                sections.append(CDASection(kind: kind, element: section, narrative: CDANarrative(section.cda("text"))))
            }
            for component in section.cdaChildren("component") {
                component.cda("section").map(visit)
            }
        }
        let body = document.cda(at: "component", "structuredBody")
        for component in body?.cdaChildren("component") ?? XMLElement.NamedChildren() {
            component.cda("section").map(visit)
        }
        return sections
    }
}
