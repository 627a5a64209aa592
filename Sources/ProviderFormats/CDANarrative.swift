import XMLSupport

/// A section's human-readable narrative (`section/text`), through which coded entries point at their words.
///
/// C-CDA entries often carry no text of their own, only `<text><reference value="#Medication_0"/></text>`:
/// the dose instruction a clinician wrote lives in the narrative element with that `ID`.
///
/// The narrative is indexed by `ID` when a reference is first followed, not before: many sections' entries carry
/// words of their own and never point into it. One section's narrative is read by one decode, on one thread.
final class CDANarrative {
    private let text: XMLElement?
    private lazy var elementsByID: [String: XMLElement] = {
        var elements: [String: XMLElement] = [:]
        func index(_ element: XMLElement) {
            if let id = element.cdaAttribute("ID") {
                // IDs are unique in a valid document; in an invalid one, the first wins.
                if elements[id] == nil { elements[id] = element }
            }
            element.children.forEach(index)
        }
        text.map(index)
        return elements
    }()

    init(_ text: XMLElement?) {
        self.text = text
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
