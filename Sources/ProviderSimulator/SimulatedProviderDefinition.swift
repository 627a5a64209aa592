import CareRecords

/// The ids of the six standard simulated providers. The synthetic population files each patient's facts under
/// these ids, so a simulator definition must use one of them to serve any patient.
public enum SimulatedProviderID {
    public static let mhTrust: ProviderID = "mh-trust"
    public static let gp: ProviderID = "gp"
    public static let ambulance: ProviderID = "ambulance"
    public static let nhs111: ProviderID = "nhs111"
    public static let cardiac: ProviderID = "cardiac"
    public static let careHome: ProviderID = "care-home"

    /// In the demo's order (ports 9101…9106).
    public static let all: [ProviderID] = [mhTrust, gp, ambulance, nhs111, cardiac, careHome]
}

/// One simulated provider: who it is, where it listens by default, and what it supplies.
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

    public init(
        id: ProviderID, name: String, kind: ProviderKind, odsCode: String, defaultPort: Int,
        timeoutMilliseconds: Int = 800, categories: [EntryCategory]
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.odsCode = odsCode
        self.defaultPort = defaultPort
        self.timeoutMilliseconds = timeoutMilliseconds
        self.categories = categories.sorted()
    }

    /// The base of the absolute `fullUrl`s in this provider's bundles. It names the provider, not a socket, so that a
    /// bundle's bytes do not depend on the port it happened to be served from.
    public var fhirBase: String { "https://\(id.rawValue).sim.caregate.example/fhir" }

    /// The `$everything` URL template (with a literal `{nhs}` placeholder) for a simulator listening on `host:port`.
    public func urlTemplate(host: String = "127.0.0.1", port: Int) -> String {
        "http://\(host):\(port)/fhir/Patient/{nhs}/$everything"
    }

    /// The provider file (`providers/<id>.yaml`) the gateway reads for this simulated provider.
    public func providerDefinitionYAML(port: Int, host: String = "127.0.0.1") -> String {
        var lines = [
            "# Simulated provider (CareGate ProviderSimulator): synthetic data only.",
            "id: \(id.rawValue)",
            "name: \(yamlQuoted(name))",
            "kind: \(kind.rawValue)",
            "ods: \(yamlQuoted(odsCode))",
            "format: fhir-r4-xml",
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

extension SimulatedProviderDefinition {
    public static let mentalHealthTrust = SimulatedProviderDefinition(
        id: SimulatedProviderID.mhTrust, name: "Thameside Mental Health NHS Foundation Trust", kind: .trust,
        odsCode: "R9T", defaultPort: 9101,
        categories: [.appointment, .encounter, .medication, .allergy, .testResult, .document, .carePlan, .condition])

    public static let gpPractice = SimulatedProviderDefinition(
        id: SimulatedProviderID.gp, name: "Ladywell Green Medical Practice", kind: .gp, odsCode: "Y99901",
        defaultPort: 9102,
        categories: [.medication, .allergy, .condition, .testResult, .immunisation, .appointment])

    public static let ambulanceService = SimulatedProviderDefinition(
        id: SimulatedProviderID.ambulance, name: "Capital Ambulance Service NHS Trust", kind: .ambulance,
        odsCode: "R9A", defaultPort: 9103, categories: [.encounter, .observation, .medication])

    public static let nhs111Service = SimulatedProviderDefinition(
        id: SimulatedProviderID.nhs111, name: "NHS 111 South Thames", kind: .nhs111, odsCode: "NX9A1",
        defaultPort: 9104, categories: [.encounter, .document])

    public static let cardiacMonitoring = SimulatedProviderDefinition(
        id: SimulatedProviderID.cardiac, name: "Heartwatch Cardiac Monitoring Service", kind: .cardiacMonitoring,
        odsCode: "8J9Z1", defaultPort: 9105, categories: [.observation, .document])

    public static let careHome = SimulatedProviderDefinition(
        id: SimulatedProviderID.careHome, name: "Cedar Lodge Care Home", kind: .careHome, odsCode: "VM9C1",
        defaultPort: 9106, categories: [.carePlan, .medication, .allergy, .observation])
}

extension Array where Element == SimulatedProviderDefinition {
    /// The six providers of the demo, in port order.
    public static var standardSix: [SimulatedProviderDefinition] {
        [.mentalHealthTrust, .gpPractice, .ambulanceService, .nhs111Service, .cardiacMonitoring, .careHome]
    }

    /// Each provider's `defaultPort`, to pass to `ProviderSimulator.start(ports:)` for the demo.
    public var defaultPorts: [ProviderID: Int] {
        Dictionary(map { ($0.id, $0.defaultPort) }, uniquingKeysWith: { first, _ in first })
    }
}
