import CareRecords
import ProviderFormats
import Testing
import XMLSupport

/// Documents that cannot be read at all throw, and say why without repeating the document.
@Suite("Decode errors")
struct DecodeErrorTests {
    func decode(_ xml: String, limits: XMLParseLimits = XMLParseLimits()) throws(DecodeError) -> DecodedRecord {
        try FHIRR4XMLDecoder(limits: limits).decode(Array(xml.utf8), from: "gp-example")
    }

    @Test("a root that is not FHIR is refused, and the description names it")
    func nonFHIRRoot() throws {
        let error = try #require(throws: DecodeError.self) {
            try decode(#"<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Discharge</title></ClinicalDocument>"#)
        }
        guard case .unexpectedRoot(let element, let namespace, _) = error.reason else {
            Issue.record("expected unexpectedRoot, got \(error.reason)")
            return
        }
        #expect(element == "ClinicalDocument")
        #expect(namespace == "urn:hl7-org:v3")
        #expect(error.description.hasPrefix("root element is <ClinicalDocument>"))
        #expect(error.description.contains("expected a FHIR Bundle or resource"))
        #expect(error.shortDescription == "unexpected-root")
        #expect(!error.description.contains("Discharge"))
    }

    @Test("a FHIR resource name outside the FHIR namespace is refused")
    func missingNamespace() throws {
        let error = try #require(throws: DecodeError.self) {
            try decode(#"<Bundle><type value="searchset"/></Bundle>"#)
        }
        #expect(
            error.reason
                == .unexpectedRoot(
                    element: "Bundle", namespace: nil,
                    expected: "a FHIR Bundle or resource in namespace http://hl7.org/fhir"))
        #expect(error.description.contains("<Bundle> (no namespace)"))
    }

    @Test("a FHIR fragment that is not a resource is refused")
    func fragmentRoot() throws {
        let error = try #require(throws: DecodeError.self) {
            try decode(#"<coding xmlns="http://hl7.org/fhir"><code value="1"/></coding>"#)
        }
        #expect(error.description.hasPrefix("root element is <coding>"))
    }

    @Test("truncated XML is malformed, with the line where it stopped")
    func truncated() throws {
        let whole = try UKCoreExamples.bytes("UKCore-MedicationStatement-Amoxicillin-Example.xml")
        let half = Array(whole.prefix(whole.count / 2))
        let error = try #require(throws: DecodeError.self) {
            try FHIRR4XMLDecoder().decode(half, from: "gp-example")
        }
        let xmlError = try #require(error.xmlError)
        #expect(xmlError.reason == .malformed)
        let line = try #require(xmlError.line)
        #expect(line > 1)
        #expect(error.description == "malformed XML at line \(line)")
        #expect(error.shortDescription == "xml-malformed")
    }

    @Test("a DOCTYPE is refused")
    func doctype() throws {
        let error = try #require(throws: DecodeError.self) {
            try decode(
                """
                <?xml version="1.0"?>
                <!DOCTYPE MedicationStatement [<!ENTITY drug "Oxycodone">]>
                <MedicationStatement xmlns="http://hl7.org/fhir"><note><text value="&drug;"/></note></MedicationStatement>
                """)
        }
        #expect(error.xmlError?.reason == .doctypeForbidden)
        #expect(error.shortDescription == "xml-doctype-forbidden")
        #expect(!error.description.contains("Oxycodone"))
    }

    @Test("the parse limits given to the decoder apply")
    func limits() throws {
        let bytes = try UKCoreExamples.bytes("UKCore-Patient-RichardSmith-Example.xml")
        let error = try #require(throws: DecodeError.self) {
            try FHIRR4XMLDecoder(limits: XMLParseLimits(maxBytes: 1024)).decode(bytes, from: "gp-example")
        }
        #expect(error.xmlError?.reason == .tooLarge(limit: 1024))
    }

    @Test("an empty body is an error, not an empty record")
    func empty() throws {
        let error = try #require(throws: DecodeError.self) { try decode("  \n") }
        #expect(error.xmlError?.reason == .empty)
    }

    /// Broken documents holding a drug name and a patient's name in the places libxml2's messages quote from
    /// (entity names, tag names, attribute values).
    static let brokenDocuments = [
        "<MedicationStatement xmlns=\"http://hl7.org/fhir\">\n<medicationCodeableConcept><text value=\"Oxycodone 10mg TESTER\"/>\n<dosage><text value=\"Oxycodone",
        #"<MedicationStatement xmlns="http://hl7.org/fhir"><note><text value="Oxycodone &Oxycodone; TESTER"/></note></MedicationStatement>"#,
        #"<MedicationStatement xmlns="http://hl7.org/fhir"><Oxycodone></TESTER></MedicationStatement>"#,
        #"<MedicationStatement xmlns="http://hl7.org/fhir"><text value="Oxycodone" value="TESTER"/></MedicationStatement>"#,
        "<MedicationStatement xmlns=\"http://hl7.org/fhir\"><text value=\"Oxycodone \u{1} TESTER\"/></MedicationStatement>",
    ]

    @Test(
        "error descriptions never repeat clinical content or patient data from the document", arguments: brokenDocuments
    )
    func noContentInDescriptions(_ document: String) throws {
        let error = try #require(throws: DecodeError.self) { try decode(document) }
        #expect(!error.description.contains("Oxycodone"))
        #expect(!error.description.contains("TESTER"))
        #expect(error.description.hasPrefix("malformed XML") || error.description.hasPrefix("invalid UTF-8"))
    }
}

@Suite struct DecodeErrorQuotingTests {
    @Test func anUnexpectedRootIsDescribedWithoutQuotingUnknownNames() {
        let smuggled = DecodeError(
            .unexpectedRoot(element: "Olanzapine 10mg", namespace: "urn:x:Joyce-Okafor", expected: "a FHIR Bundle"))
        #expect(!smuggled.description.contains("Olanzapine"))
        #expect(!smuggled.description.contains("Okafor"))
        #expect(smuggled.description == "root element is an element (another namespace), expected a FHIR Bundle")

        let plain = DecodeError(.unexpectedRoot(element: "ClinicalDocument", namespace: "urn:hl7-org:v3", expected: "x"))
        #expect(plain.description == "root element is <ClinicalDocument> (namespace urn:hl7-org:v3), expected x")
    }
}
