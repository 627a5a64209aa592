import XMLSupport

/// A section's human-readable narrative (`section/text`), through which coded entries point at their words.
///
/// C-CDA entries often carry no text of their own, only `<text><reference value="#Medication_0"/></text>`:
/// the dose instruction a clinician wrote lives in the narrative element with that `ID`.
struct CDANarrative {
    private let elementsByID: [String: XMLElement]

    init(_ text: XMLElement?) {
        var elements: [String: XMLElement] = [:]
        func index(_ element: XMLElement) {
            if let id = element.cdaAttribute("ID") {
                // IDs are unique in a valid document; in an invalid one, the first wins.
                if elements[id] == nil { elements[id] = element }
            }
            element.children.forEach(index)
        }
        text.map(index)
        elementsByID = elements
    }

    /// The words of a `text` or `originalText` element: its own, else those of the narrative element its
    /// `reference` points at. Nil when there are none or the reference leads nowhere.
    func words(of element: XMLElement?) -> String? {
        guard let element, !element.isNullFlavored else { return nil }
        if let own = element.plainText { return own }
        return text(referencedBy: element.cda("reference")?.cdaAttribute("value"))
    }

    /// The words of the narrative element a `#id` reference points at.
    func text(referencedBy reference: String?) -> String? {
        guard let reference, reference.hasPrefix("#") else { return nil }
        return elementsByID[String(reference.dropFirst())]?.plainText
    }
}
