/// A FHIR R4 OperationOutcome with one issue, as the simulator's error bodies.
enum OperationOutcome {
    /// OperationOutcome: id, meta, …, issue (severity, code, details, diagnostics, location, expression).
    /// `diagnostics` must never carry patient data.
    static func xml(code: String, diagnostics: String) -> [UInt8] {
        var xml = FHIRXMLBuffer(capacity: 512)
        xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        xml.open("OperationOutcome", namespace: "http://hl7.org/fhir")
        xml.element("issue") {
            $0.value("severity", "error")
            $0.value("code", code)
            $0.value("diagnostics", diagnostics)
        }
        xml.close("OperationOutcome")
        return xml.bytes
    }
}
