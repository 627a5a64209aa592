/// The two FHIR wire formats CareGate answers in.
public enum FHIRFormat: Sendable, Hashable, CaseIterable {
    case json
    case xml

    /// The `Content-Type` for a response body in this format.
    public var contentType: String {
        switch self {
        case .json: "application/fhir+json; charset=utf-8"
        case .xml: "application/fhir+xml; charset=utf-8"
        }
    }

    /// The MIME type without parameters, as a CapabilityStatement lists it.
    public var mimeType: String {
        switch self {
        case .json: "application/fhir+json"
        case .xml: "application/fhir+xml"
        }
    }
}
