import CareRecords

/// A running simulated provider: where to reach it and what it is.
public struct SimulatedEndpoint: Sendable, Hashable, Identifiable {
    public var definition: SimulatedProviderDefinition
    public var host: String
    /// The bound port (the ephemeral one chosen by the system when 0 was asked for).
    public var port: Int

    public var id: ProviderID { definition.id }
    public var name: String { definition.name }
    public var kind: ProviderKind { definition.kind }

    /// `http://127.0.0.1:PORT` and the provider's path template (`/fhir/Patient/{nhs}/$everything`, …), with `{nhs}`
    /// left for the caller.
    public var urlTemplate: String { definition.urlTemplate(host: host, port: port) }

    /// The URL of one patient's record.
    public func url(for nhsNumber: NHSNumber) -> String {
        "http://\(host):\(port)\(definition.path(for: nhsNumber))"
    }

    /// The provider file for this running endpoint (see `SimulatedProviderDefinition.providerDefinitionYAML`).
    public func providerDefinitionYAML() -> String {
        definition.providerDefinitionYAML(port: port, host: host)
    }
}
