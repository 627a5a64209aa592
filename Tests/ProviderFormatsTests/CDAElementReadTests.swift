import CareRecords
import Testing
import XMLSupport

@testable import ProviderFormats

/// The CDA datatype readers that read attribute bytes in place (`withCDAAttribute`) read what reading the
/// attribute as a trimmed String reads, white space, case and `nullFlavor` included.
@Suite("CDA element readers")
struct CDAElementReadTests {
    /// The one element in `xml`, parsed in the CDA namespace with `xsi` declared.
    private func element(_ xml: String) throws -> XMLElement {
        let wrapper = #"<r xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#
        return try SafeXMLParser.parse(Array((wrapper + xml + "</r>").utf8)).children[0]
    }

    @Test(
        "a TS or IVL_TS: its value, else low, else center; an unreadable or null-flavoured value is no date",
        arguments: [
            (#"<t value="20240501"/>"#, "2024-05-01"),
            (#"<t value="  20240501143000+0100 "/>"#, "2024-05-01T14:30:00+01:00"),
            (#"<t><low value="202405"/><center value="20240601"/></t>"#, "2024-05"),
            (#"<t><low nullFlavor="NI"/><center value="20240601"/></t>"#, "2024-06-01"),
            (#"<t><low value=" "/><center value="20240601"/></t>"#, "2024-06-01"),
            (#"<t value=""><low value="20240701"/></t>"#, "2024-07-01"),
            // A value that is there but not a timestamp does not fall back to the interval.
            (#"<t value="2024-05-01"><low value="20240701"/></t>"#, nil),
            (#"<t><low value="yesterday"/><center value="20240601"/></t>"#, nil),
            (#"<t nullFlavor="UNK"><low value="20240701"/></t>"#, nil),
            (#"<t><high value="20240701"/></t>"#, nil),
        ] as [(String, String?)])
    func timestamps(xml: String, expected: String?) throws {
        #expect(try element(xml).timestamp?.text == expected)
    }

    @Test(
        "negationInd is true in any case and with white space around it, and nothing else",
        arguments: [
            (#"<o negationInd="true"/>"#, true), (#"<o negationInd="TRUE"/>"#, true),
            (#"<o negationInd=" True "/>"#, true), (#"<o negationInd="false"/>"#, false),
            (#"<o negationInd="truth"/>"#, false), (#"<o negationInd="t"/>"#, false), (#"<o/>"#, false),
            (#"<o negationInd="TRUE&#x0A;"/>"#, true), (#"<o negationInd="tr&#xFC;e"/>"#, false),
        ])
    func negation(xml: String, expected: Bool) throws {
        #expect(try element(xml).isNegated == expected)
    }

    @Test(
        "an attribute compared in place equals its trimmed value, and only that",
        arguments: [
            (#"<i root="2.16.840.1.113883.2.1.4.1"/>"#, true), (#"<i root=" 2.16.840.1.113883.2.1.4.1 "/>"#, true),
            (#"<i root="2.16.840.1.113883.2.1.4.10"/>"#, false), (#"<i root=""/>"#, false), (#"<i/>"#, false),
            (#"<i root="&#xA0;2.16.840.1.113883.2.1.4.1"/>"#, true),
        ])
    func comparedInPlace(xml: String, expected: Bool) throws {
        let id = try element(xml)
        #expect(id.cdaAttribute("root", is: "2.16.840.1.113883.2.1.4.1") == expected)
        #expect(
            id.cdaAttribute("root", is: "2.16.840.1.113883.2.1.4.1")
                == (id.cdaAttribute("root") == "2.16.840.1.113883.2.1.4.1"))
    }

    @Test(
        "xsi:type's local name, upper-cased",
        arguments: [
            (#"<v xsi:type="PQ"/>"#, "PQ"), (#"<v xsi:type="cd"/>"#, "CD"), (#"<v xsi:type=" ivl_ts "/>"#, "IVL_TS"),
            (#"<v xmlns:h="urn:hl7-org:v3" xsi:type="h:st"/>"#, "ST"), (#"<v type="PQ"/>"#, nil), (#"<v/>"#, nil),
            (#"<v xsi:type="prä"/>"#, "PRÄ"),
        ] as [(String, String?)])
    func xsiTypes(xml: String, expected: String?) throws {
        #expect(try element(xml).xsiType == expected)
    }

    @Test(
        "an element's words beside children that have none read as its own; mixed content still reads as none",
        arguments: [
            (##"<text>One tablet  at night<reference value="#m1"/></text>"##, "One tablet at night"),
            (##"<text><reference value="#m1"/>One tablet</text>"##, "One tablet"),
            (#"<text>Take <b>two</b> tablets</text>"#, nil),
            (#"<text><content>Penicillin</content> <content>allergy</content></text>"#, "Penicillin allergy"),
            (#"<text>  <br/>  </text>"#, nil),
        ] as [(String, String?)])
    func words(xml: String, expected: String?) throws {
        #expect(try element(xml).plainText == expected)
    }
}
