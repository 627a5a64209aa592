import CareGateTesting
import CareRecords
import Providers
import Testing

@Suite struct ProviderDirectoryTests {
    func definition(_ id: String, kind: ProviderKind = .gp) -> ProviderDefinition {
        ProviderDefinition(
            id: ProviderID(id), name: id, kind: kind, ods: "X", format: .fhirR4XML,
            urlTemplate: "http://127.0.0.1:1/{nhs}", timeoutMilliseconds: 500, categories: [.medication])
    }

    func directory(_ ids: [String]) throws -> ProviderDirectory {
        try ProviderDirectory(definitions: ids.map { definition($0) }, logger: .init(label: "test")) { definition in
            FakeAdapter(definition: definition, .answer(after: .zero, entries: 1))
        }
    }

    @Test func registerReplaceAndRemoveTakeEffectAtOnce() throws {
        let providers = try directory(["gp", "ambulance"])
        #expect(providers.current.map(\.definition.id) == ["ambulance", "gp"])
        #expect(try providers.register(definition("care-home")) == false)
        #expect(try providers.register(definition("gp", kind: .trust)) == true)
        #expect(providers.definitions.first { $0.id == "gp" }?.kind == .trust)
        #expect(providers.remove("ambulance"))
        #expect(!providers.remove("ambulance"))
        #expect(providers.definitions.map(\.id) == ["care-home", "gp"])
    }

    @Test func aReloadWithAnyBadDefinitionChangesNothing() throws {
        let providers = try directory(["gp"])
        #expect(throws: ConfigurationError.self) {
            try providers.replaceAll(with: [definition("nhs111"), definition("nhs111")])
        }
        #expect(providers.definitions.map(\.id) == ["gp"])
        try providers.replaceAll(with: [definition("nhs111")])
        #expect(providers.definitions.map(\.id) == ["nhs111"])
    }

    @Test func aFixedDirectoryRefusesRegistration() throws {
        let providers = try ProviderDirectory(adapters: [FakeAdapter("gp", .answer(after: .zero, entries: 1))])
        #expect(throws: ConfigurationError.self) { try providers.register(definition("ambulance")) }
        #expect(throws: ConfigurationError.self) {
            try ProviderDirectory(adapters: [
                FakeAdapter("gp", .answer(after: .zero, entries: 1)), FakeAdapter("gp", .answer(after: .zero, entries: 1)),
            ])
        }
    }
}
