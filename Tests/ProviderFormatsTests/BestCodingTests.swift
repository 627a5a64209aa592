import CareRecords
import Testing
import XMLSupport

@testable import ProviderFormats

/// Which coding of a CodeableConcept the FHIR decoder keeps: SNOMED CT, then dm+d, then LOINC (each only with a
/// code), else the first coding; the concept's text fills a missing display or stands alone.
@Suite struct BestCodingTests {
    private func value(_ name: String, _ value: String?) -> XMLElement? {
        value.map {
            XMLElement(
                name: name, namespace: FHIRR4XMLDecoder.namespace, attributes: [XMLAttribute(name: "value", value: $0)])
        }
    }

    private func coding(system: String?, code: String?, display: String? = nil) -> XMLElement {
        let parts = [value("system", system), value("code", code), value("display", display)]
        return XMLElement(name: "coding", namespace: FHIRR4XMLDecoder.namespace, children: parts.compactMap { $0 })
    }

    private func concept(_ codings: [XMLElement], text: String? = nil) -> XMLElement {
        XMLElement(
            name: "code", namespace: FHIRR4XMLDecoder.namespace, children: codings + [value("text", text)].compactMap { $0 })
    }

    @Test func nationalSystemsWinByRankAndOnlyWithACode() {
        let chosen = concept([
            coding(system: Coding.System.loinc, code: "1-1", display: "lab"),
            coding(system: Coding.System.snomedCT, code: nil, display: "no code"),
            coding(system: Coding.System.dmd, code: "321", display: "medicine"),
        ]).bestCoding
        #expect(chosen == Coding(system: Coding.System.dmd, code: "321", display: "medicine"))
        let snomed = concept([
            coding(system: Coding.System.dmd, code: "321"), coding(system: Coding.System.snomedCT, code: "123"),
        ]).bestCoding
        #expect(snomed?.code == "123")
    }

    @Test func otherwiseTheFirstCodingWithTheTextForAMissingDisplay() {
        let chosen = concept(
            [coding(system: "urn:local", code: "A"), coding(system: "urn:local", code: "B", display: "bee")],
            text: "what the clinician typed"
        ).bestCoding
        #expect(chosen == Coding(system: "urn:local", code: "A", display: "what the clinician typed"))
    }

    @Test func textAloneIsADisplayOnlyCoding() {
        #expect(concept([], text: "Chest pain").bestCoding == Coding(display: "Chest pain"))
        #expect(concept([]).bestCoding == nil)
    }
}
