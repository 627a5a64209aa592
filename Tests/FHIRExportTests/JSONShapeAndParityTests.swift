import CareGateTesting
import CareRecords
import FHIRExport
import Foundation
import Testing
import XMLSupport

/// FHIR JSON's shape (checked against the R4 schema's cardinalities and types) and that the JSON and the XML
/// of the same resource say exactly the same thing.
@Suite struct JSONShapeAndParityTests {
    static var documents: [(name: String, resource: FHIRResource)] {
        [("Bundle", Shared.bundle), ("OperationOutcome", Shared.errorOutcome),
         ("CapabilityStatement", Shared.capabilityStatement),
         ("Patient without demographics", Shared.exporter.patient(Shared.nhs, demographics: nil))]
            + Shared.allResources.map { ("\($0.resourceType)/\($0.id ?? "")", $0) }
    }

    @Test func jsonParsesWithFoundationToo() throws {
        for (name, resource) in Self.documents {
            let object = try JSONSerialization.jsonObject(with: Data(resource.encoded(.json))) as? [String: Any]
            #expect(object?["resourceType"] as? String == resource.resourceType, "\(name)")
        }
    }

    @Test func jsonHasFHIRShape() throws {
        let model = try Shared.schemaModel.get()
        for (name, resource) in Self.documents {
            let json = try Shared.json(resource)
            #expect(model.problems(resource: json) == [], "\(name)")
            #expect(json.keys.first == "resourceType", "\(name)")
        }
    }

    /// The shape check itself catches what it is for: a repeating element written bare, a decimal as a string.
    @Test func shapeCheckDetectsWrongShapes() throws {
        let model = try Shared.schemaModel.get()
        let bareIdentifier = try JSONValue.parse(Array(
            #"{"resourceType":"Patient","identifier":{"value":"1"}}"#.utf8))
        #expect(model.problems(resource: bareIdentifier).count == 1)
        let stringDecimal = try JSONValue.parse(Array(
            #"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"5"}}"#.utf8))
        #expect(model.problems(resource: stringDecimal).count == 1)
        let emptyArray = try JSONValue.parse(Array(#"{"resourceType":"Patient","name":[]}"#.utf8))
        #expect(model.problems(resource: emptyArray).count == 1)
    }

    @Test func jsonIsCompact() throws {
        for (name, resource) in Self.documents {
            // No whitespace outside strings.
            var inString = false, escaped = false, whitespace = 0
            for byte in resource.encoded(.json) {
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true }
                    else if byte == UInt8(ascii: "\"") { inString = false }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if [0x20, 0x09, 0x0A, 0x0D].contains(byte) {
                    whitespace += 1
                }
            }
            #expect(whitespace == 0, "\(name)")
        }
    }

    @Test func jsonAndXMLCarryTheSameContent() throws {
        for (name, resource) in Self.documents {
            let fromJSON = Leaves.of(json: try Shared.json(resource))
            let fromXML = Leaves.of(xml: try Shared.xml(resource))
            #expect(fromJSON == fromXML, "\(name): only in JSON \(Set(fromJSON).subtracting(fromXML)); only in XML \(Set(fromXML).subtracting(fromJSON))")
            #expect(fromJSON.count >= 3, "\(name)")
        }
    }

    /// The parity check is not vacuous: the leaves include escaped text and numbers exactly as written.
    @Test func leavesKeepEscapedTextAndNumberText() throws {
        let leaves = Set(Leaves.of(xml: try Shared.xml(Shared.bundle)))
        #expect(leaves.contains("Bundle/entry/resource/Appointment/description = Cardiology <clinic> & \"review\" 'A'"))
        #expect(leaves.contains("Bundle/entry/resource/Observation/valueQuantity/value = 5.00"))
        #expect(leaves.contains("Bundle/entry/resource/DocumentReference/description = Discharge summary\nline two\tend"))
        #expect(leaves.contains("Bundle/entry/resource/Appointment/extension/url = \(FHIRExporter.Provenance.sourceExtension)"))
        #expect(leaves.contains("Bundle/total = 120"))
    }

    @Test func xmlPutsEveryElementInTheFHIRNamespace() throws {
        func check(_ element: XMLElement) -> Bool {
            element.namespace == "http://hl7.org/fhir" && element.children.allSatisfy(check)
        }
        for (name, resource) in Self.documents {
            #expect(check(try Shared.xml(resource)), "\(name)")
        }
        let xml = String(decoding: Shared.bundle.encoded(.xml), as: UTF8.self)
        let resources = Shared.allResources.count + Shared.notices.count
        #expect(xml.components(separatedBy: " xmlns=\"http://hl7.org/fhir\"").count - 1 == resources + 1)
    }
}
