import CareRecords
import ProviderFormats
import Testing

/// Another CareGate gateway's answer (federation): its entries are attributed to the providers behind it, and its
/// notices name those that did not answer it. What the peer writes there is checked, never trusted as is.
@Suite struct FHIRGatewayProvenanceTests {
    static func bundle(_ entries: String) -> [UInt8] {
        Array(
            """
            <Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/>\(entries)</Bundle>
            """.utf8)
    }

    static func allergy(id: String, sources: [(String, String)]) -> String {
        let extensions = sources.map { provider, id in
            """
            <extension url="\(CareGateFHIRProfile.sourceExtension)">\
            <extension url="provider"><valueString value="\(provider)"/></extension>\
            <extension url="id"><valueString value="\(id)"/></extension></extension>
            """
        }.joined()
        return """
            <entry><resource><AllergyIntolerance><id value="\(id)"/>\(extensions)\
            <identifier><system value="https://example.org/allergy"/><value value="\(id)"/></identifier>\
            <code><coding><system value="http://snomed.info/sct"/><code value="764146007"/>\
            <display value="Penicillin"/></coding></code><recordedDate value="2025-01-22"/>\
            </AllergyIntolerance></resource></entry>
            """
    }

    static func notice(provider: String, status: String, kind: String? = "gp", detail: String? = nil) -> String {
        let kindPart = kind.map { #"<extension url="kind"><valueString value="\#($0)"/></extension>"# } ?? ""
        let detailPart = detail.map { #"<extension url="detail"><valueString value="\#($0)"/></extension>"# } ?? ""
        return """
            <entry><resource><OperationOutcome><issue>\
            <extension url="\(CareGateFHIRProfile.providerOutcomeExtension)">\
            <extension url="provider"><valueString value="\(provider)"/></extension>\(kindPart)\(detailPart)</extension>\
            <severity value="warning"/><code value="incomplete"/><details><coding>\
            <system value="\(CareGateFHIRProfile.providerStatusCodeSystem)"/><code value="\(status)"/></coding></details>\
            </issue></OperationOutcome></resource><search><mode value="outcome"/></search></entry>
            """
    }

    let gateway = FHIRR4XMLDecoder(gateway: true)

    @Test func eachSourceBecomesTheGatewaysProviderWithItsOwnID() throws {
        let body = Self.bundle(Self.allergy(id: "e1", sources: [("gp", "a-7"), ("care-home", "ch-3")]))
        let record = try gateway.decode(body, from: "north")
        #expect(record.entries.map(\.source) == [
            SourceReference(provider: "north/gp", id: "a-7"), SourceReference(provider: "north/care-home", id: "ch-3"),
        ])
        #expect(Set(record.entries.map(\.summary)).count == 1)
        // A provider that is not a gateway reads the same document as one entry of its own.
        let plain = try FHIRR4XMLDecoder().decode(body, from: "north")
        #expect(plain.entries.map(\.source) == [SourceReference(provider: "north", id: "e1")])
    }

    @Test func aSourceThatIsNotAProviderIDIsNotTakenAsOne() throws {
        let body = Self.bundle(Self.allergy(id: "e1", sources: [("GP Practice/../x", "a-7"), ("gp", "")]))
        let record = try gateway.decode(body, from: "north")
        #expect(record.entries.map(\.source) == [SourceReference(provider: "north", id: "e1")])
    }

    @Test func noticesNameTheProvidersThatDidNotAnswer() throws {
        let long = String(repeating: "x", count: 500)
        let body = Self.bundle(
            Self.allergy(id: "e1", sources: [("gp", "a-7")])
                + Self.notice(provider: "ambulance", status: "timeout", kind: "ambulance", detail: "no answer within 1500 ms")
                + Self.notice(provider: "cardiac", status: "error", kind: "a-kind-we-do-not-know", detail: long)
                + Self.notice(provider: "Not An ID", status: "error"))
        let record = try gateway.decode(body, from: "north")
        #expect(record.entries.count == 1)
        #expect(record.unreadable == 0)
        #expect(record.relayedOutcomes.count == 2)
        #expect(record.relayedOutcomes.first == RelayedOutcome(
            provider: "ambulance", kind: .ambulance, status: "timeout", detail: "no answer within 1500 ms"))
        #expect(record.relayedOutcomes.last?.kind == nil)
        #expect(record.relayedOutcomes.last?.detail?.count == 200)
        // Not a gateway: an OperationOutcome is not an entry, and relays nothing.
        #expect(try FHIRR4XMLDecoder().decode(body, from: "north").relayedOutcomes.isEmpty)
    }
}
