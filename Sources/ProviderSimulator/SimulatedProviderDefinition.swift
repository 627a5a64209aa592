import CareRecords

/// The ids of the standard simulated providers: six organisations, the trust with two feeds. The synthetic
/// population files each patient's facts under these ids, so a simulator definition must use one of them to serve
/// any patient.
public enum SimulatedProviderID {
    /// The mental health trust's FHIR R4 record.
    public static let mhTrust: ProviderID = "mh-trust"
    /// The same trust's clinical documents (discharge summaries, clinic letters) as HL7 CDA R2.
    public static let mhTrustDocuments: ProviderID = "mh-trust-documents"
    public static let gp: ProviderID = "gp"
    public static let ambulance: ProviderID = "ambulance"
    public static let nhs111: ProviderID = "nhs111"
    public static let cardiac: ProviderID = "cardiac"
    public static let careHome: ProviderID = "care-home"

    /// In the demo's order (ports 9101…9106; the trust's two feeds share 9101).
    public static let all: [ProviderID] = [mhTrust, mhTrustDocuments, gp, ambulance, nhs111, cardiac, careHome]
}

/// The wire format a simulated provider answers in. Raw values are the spelling in provider files.
public enum SimulatedProviderFormat: String, Sendable, Hashable, CaseIterable {
    /// A FHIR R4 `searchset` Bundle in XML.
    case fhirR4XML = "fhir-r4-xml"
    /// HL7 CDA R2 `ClinicalDocument`s, wrapped in one `Documents` element (see `CDADocumentWriter`).
    case cda
    /// The bespoke XML of the provider's kind, read by the gateway through a declarative mapping file.
    case mappedXML = "mapped-xml"

    /// The `Content-Type` of a successful answer.
    public var contentType: String {
        switch self {
        case .fhirR4XML: "application/fhir+xml; charset=utf-8"
        case .cda, .mappedXML: "application/xml; charset=utf-8"
        }
    }
}

/// One simulated provider: who it is, where it listens by default, what it supplies and in which format.
public struct SimulatedProviderDefinition: Sendable, Hashable, Identifiable {
    public var id: ProviderID
    public var name: String
    public var kind: ProviderKind
    /// An ODS-like organisation code (fictional).
    public var odsCode: String
    /// The port the demo uses; tests pass port 0 instead.
    public var defaultPort: Int
    /// The timeout the generated provider file gives the gateway for this provider.
    public var timeoutMilliseconds: Int
    /// The categories of record the provider supplies, in `EntryCategory` order.
    public var categories: [EntryCategory]
    public var format: SimulatedProviderFormat
    /// The request path, with a literal `{nhs}` where the NHS number goes: `/fhir/Patient/{nhs}/$everything`.
    public var pathTemplate: String
    /// For `mapped-xml`, the mapping file the gateway reads the format with (a file name in `providers/`).
    public var mappingFile: String?
    /// Another provider whose socket this one is served from: a second feed of the same system on the same port,
    /// told apart by its path. Nil for a provider with a port of its own, and ignored when that provider does not
    /// run in the same simulator.
    public var sharesPortWith: ProviderID?

    /// - Parameters:
    ///   - pathTemplate: default: the format's usual path (`defaultPathTemplate(format:kind:)`).
    ///   - mappingFile: default for `mapped-xml`: `<id>.mapping.yaml`; always nil for other formats.
    public init(
        id: ProviderID, name: String, kind: ProviderKind, odsCode: String, defaultPort: Int,
        timeoutMilliseconds: Int = 800, categories: [EntryCategory], format: SimulatedProviderFormat = .fhirR4XML,
        pathTemplate: String? = nil, mappingFile: String? = nil, sharesPortWith: ProviderID? = nil
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.odsCode = odsCode
        self.defaultPort = defaultPort
        self.timeoutMilliseconds = timeoutMilliseconds
        self.categories = categories.sorted()
        self.format = format
        self.pathTemplate = pathTemplate ?? Self.defaultPathTemplate(format: format, kind: kind)
        self.mappingFile = format == .mappedXML ? (mappingFile ?? "\(id.rawValue).mapping.yaml") : nil
        self.sharesPortWith = sharesPortWith
    }

    /// The path each format is usually served at; bespoke formats have their kind's own.
    public static func defaultPathTemplate(format: SimulatedProviderFormat, kind: ProviderKind) -> String {
        switch (format, kind) {
        case (.fhirR4XML, _): "/fhir/Patient/{nhs}/$everything"
        case (.cda, _): "/cda/Patient/{nhs}/documents"
        case (.mappedXML, .ambulance): "/epcr/patients/{nhs}"
        case (.mappedXML, .cardiacMonitoring): "/monitoring/patients/{nhs}/summary"
        case (.mappedXML, .careHome): "/carehome/residents/{nhs}/record"
        case (.mappedXML, _): "/records/{nhs}"
        }
    }

    /// The base of the absolute `fullUrl`s in this provider's bundles. It names the provider, not a socket, so that a
    /// bundle's bytes do not depend on the port it happened to be served from.
    public var fhirBase: String { "https://\(id.rawValue).sim.caregate.example/fhir" }

    /// The URL template (with a literal `{nhs}` placeholder) for a simulator listening on `host:port`.
    public func urlTemplate(host: String = "127.0.0.1", port: Int) -> String {
        "http://\(host):\(port)\(pathTemplate)"
    }

    /// The request path for one patient.
    public func path(for nhsNumber: NHSNumber) -> String {
        pathTemplate.replacingPlaceholder(with: nhsNumber.digits)
    }

    /// The provider file (`providers/<id>.yaml`) the gateway reads for this simulated provider.
    public func providerDefinitionYAML(port: Int, host: String = "127.0.0.1") -> String {
        var lines = [
            "# Simulated provider (CareGate ProviderSimulator): synthetic data only.",
            "id: \(id.rawValue)",
            "name: \(yamlQuoted(name))",
            "kind: \(kind.rawValue)",
            "ods: \(yamlQuoted(odsCode))",
            "format: \(format.rawValue)",
        ]
        if let mappingFile {
            let plain = mappingFile.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
            }
            lines.append("mapping: \(plain ? mappingFile : yamlQuoted(mappingFile))")
        }
        if let schemaFile = Self.bespokeSchemas[id] {
            // Relative to the providers folder: the XSDs live in the repository's schemas/.
            lines.append("schema: ../schemas/\(schemaFile)")
        }
        lines += [
            "url: \(yamlQuoted(urlTemplate(host: host, port: port)))",
            "timeout_ms: \(timeoutMilliseconds)",
            "categories:",
        ]
        lines += categories.map { "  - \($0.rawValue)" }
        return lines.joined(separator: "\n") + "\n"
    }

    private func yamlQuoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}

extension String {
    /// Replaces the `{nhs}` placeholder of a path template.
    func replacingPlaceholder(with digits: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: "{nhs}") {
            result += rest[..<range.lowerBound]
            result += digits
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension SimulatedProviderDefinition {
    public static let mentalHealthTrust = SimulatedProviderDefinition(
        id: SimulatedProviderID.mhTrust, name: "Thameside Mental Health NHS Foundation Trust", kind: .trust,
        odsCode: "R9T", defaultPort: 9101,
        categories: [.appointment, .encounter, .medication, .allergy, .testResult, .document, .carePlan, .condition])

    /// The trust's document feed: the same organisation and port as `mentalHealthTrust`, another path and format.
    public static let mentalHealthTrustDocuments = SimulatedProviderDefinition(
        id: SimulatedProviderID.mhTrustDocuments, name: "Thameside Mental Health NHS Foundation Trust",
        kind: .trust, odsCode: "R9T", defaultPort: 9101, categories: [.medication, .allergy, .document, .condition],
        format: .cda, pathTemplate: "/cda/Patient/{nhs}/documents", sharesPortWith: SimulatedProviderID.mhTrust)

    public static let gpPractice = SimulatedProviderDefinition(
        id: SimulatedProviderID.gp, name: "Ladywell Green Medical Practice", kind: .gp, odsCode: "Y99901",
        defaultPort: 9102,
        categories: [.medication, .allergy, .condition, .testResult, .immunisation, .appointment])

    public static let ambulanceService = SimulatedProviderDefinition(
        id: SimulatedProviderID.ambulance, name: "Capital Ambulance Service NHS Trust", kind: .ambulance,
        odsCode: "R9A", defaultPort: 9103, categories: [.encounter, .observation, .medication], format: .mappedXML,
        pathTemplate: "/epcr/patients/{nhs}", mappingFile: "ambulance.mapping.yaml")

    /// The XSD of each bespoke format, in the repository's `schemas/` folder.
    static let bespokeSchemas: [ProviderID: String] = [
        SimulatedProviderID.ambulance: "ambulance-epcr.xsd", SimulatedProviderID.cardiac: "cardiac-monitoring.xsd",
        SimulatedProviderID.careHome: "care-home.xsd",
    ]

    public static let nhs111Service = SimulatedProviderDefinition(
        id: SimulatedProviderID.nhs111, name: "NHS 111 South Thames", kind: .nhs111, odsCode: "NX9A1",
        defaultPort: 9104, categories: [.encounter, .document], format: .cda,
        pathTemplate: "/cda/Patient/{nhs}/documents")

    public static let cardiacMonitoring = SimulatedProviderDefinition(
        id: SimulatedProviderID.cardiac, name: "Heartwatch Cardiac Monitoring Service", kind: .cardiacMonitoring,
        odsCode: "8J9Z1", defaultPort: 9105, categories: [.observation, .document], format: .mappedXML,
        pathTemplate: "/monitoring/patients/{nhs}/summary", mappingFile: "cardiac.mapping.yaml")

    public static let careHome = SimulatedProviderDefinition(
        id: SimulatedProviderID.careHome, name: "Cedar Lodge Care Home", kind: .careHome, odsCode: "VM9C1",
        defaultPort: 9106, categories: [.carePlan, .medication, .allergy, .observation], format: .mappedXML,
        pathTemplate: "/carehome/residents/{nhs}/record", mappingFile: "care-home.mapping.yaml")
}

extension Array where Element == SimulatedProviderDefinition {
    /// The demo's providers in port order: six organisations on ports 9101…9106, the trust with two feeds (FHIR and
    /// CDA) on 9101, so seven definitions.
    public static var standardSix: [SimulatedProviderDefinition] {
        [
            .mentalHealthTrust, .mentalHealthTrustDocuments, .gpPractice, .ambulanceService, .nhs111Service,
            .cardiacMonitoring, .careHome,
        ]
    }

    /// Each provider's `defaultPort`, to pass to `ProviderSimulator.start(ports:)` for the demo.
    public var defaultPorts: [ProviderID: Int] {
        Dictionary(map { ($0.id, $0.defaultPort) }, uniquingKeysWith: { first, _ in first })
    }
}
