@testable import ProviderSimulator
import Testing
import XMLSupport

@Suite("XML writing")
struct FHIRXMLEscapingTests {
    @Test("attribute values with markup, quotes and line breaks round-trip through a parser unchanged")
    func escapingRoundTrips() throws {
        let awkward = "Dose <b>\"2 & 3\"</b> 'tabs'\n\tthen\r\nmore — café"
        var xml = FHIRXMLBuffer()
        xml.open("Basic", namespace: "http://hl7.org/fhir")
        xml.value("id", awkward)
        xml.close("Basic")
        let root = try SafeXMLParser.parse(xml.bytes)
        #expect(root.child("id")?.attribute("value") == awkward)
    }

    @Test("characters XML cannot carry are dropped rather than producing an unparseable document")
    func controlCharactersAreDropped() throws {
        var xml = FHIRXMLBuffer()
        xml.open("Basic", namespace: "http://hl7.org/fhir")
        xml.value("id", "a\u{01}b\u{1F}c")
        xml.close("Basic")
        #expect(try SafeXMLParser.parse(xml.bytes).child("id")?.attribute("value") == "abc")
    }

    @Test("base64 matches RFC 4648's test vectors")
    func base64() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
                       "foobar": "Zm9vYmFy"]
        for (input, output) in vectors {
            #expect(Base64.encode(Array(input.utf8)) == output)
        }
    }
}
