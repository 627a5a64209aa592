import CareRecords
import XMLSupport

/// DocumentReference → `document` (letters, discharge summaries, reports). The document itself is not
/// fetched: the entry says what it is and when, and carries its identifiers so copies held by several
/// providers merge.
extension FHIRResource {
    func documentReference() -> CareEntry? {
        let code = element.codeableConcept("type")
        let headline = element.fhirValue("description") ?? code?.display
        let titles = element.children("content")
            .compactMap { $0.child("attachment")?.fhirValue("title") }
            .filter { $0 != headline }
            .uniqued()
        return entry(
            .document, code: code,
            date: firstDate(element.fhirValue("date"), element.fhirValue(at: "context", "period", "start")),
            summary: summary(headline, details: titles.isEmpty ? nil : titles.joined(separator: ", ")),
            status: element.fhirValue("docStatus") ?? element.fhirValue("status"),
            identifiers: element.child("masterIdentifier")?.identifier.map { [$0] } ?? [])
    }
}
