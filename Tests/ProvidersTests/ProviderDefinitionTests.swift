import CareRecords
import Foundation
import AsyncHTTPClient
@testable import Providers
import Testing

@Suite struct ProviderDefinitionTests {
    static let valid = """
        id: gp
        name: Riverside Medical Practice
        kind: gp
        ods: Y12345
        format: fhir-r4-xml
        url: http://127.0.0.1:9102/fhir/Patient/{nhs}/$everything
        timeout_ms: 1500
        categories: [medication, allergy, test-result]
        """

    @Test func readsEveryKey() throws {
        let definition = try ProviderDefinition(yaml: Self.valid, file: "gp.yaml")
        #expect(definition.id == "gp")
        #expect(definition.name == "Riverside Medical Practice")
        #expect(definition.kind == .gp)
        #expect(definition.ods == "Y12345")
        #expect(definition.format == .fhirR4XML)
        #expect(definition.timeoutMilliseconds == 1500)
        #expect(definition.categories == [.medication, .allergy, .testResult])
        #expect(definition.maxConnections == 64)
        #expect(definition.url(for: try NHSNumber("9990000018")) == "http://127.0.0.1:9102/fhir/Patient/9990000018/$everything")
        // Every placeholder is filled, wherever it stands.
        var twice = definition
        twice.urlTemplate = "http://127.0.0.1:9102/p/{nhs}?subject={nhs}"
        #expect(twice.url(for: try NHSNumber("9990000018")) == "http://127.0.0.1:9102/p/9990000018?subject=9990000018")
    }

    @Test func aContentTypeIsXMLWhenItNamesXML() {
        for xml in ["application/fhir+xml", "text/xml; charset=utf-8", "application/xml", "xml"] {
            #expect(HTTPProviderAdapter.mentionsXML(xml), "\(xml)")
        }
        for other in ["", "application/json", "text/plain", "xm", "application/x-m-l"] {
            #expect(!HTTPProviderAdapter.mentionsXML(other), "\(other)")
        }
    }

    /// Each bad file is refused with the file, the line, the key and what is wrong.
    @Test(arguments: [
        ("kind: gp", "kind: hospital", "gp.yaml:3: key 'kind': unknown kind 'hospital'"),
        ("timeout_ms: 1500", "timeout_ms: soon", "gp.yaml:7: key 'timeout_ms': expected a whole number, got 'soon'"),
        ("timeout_ms: 1500", "timeout_ms: 0", "gp.yaml:7: key 'timeout_ms': must be between 1 and 60000, got 0"),
        ("format: fhir-r4-xml", "format: hl7v2", "gp.yaml:5: key 'format': unknown format 'hl7v2'"),
        ("$everything", "$everything?x=1\nurl2: x", "gp.yaml:7: key 'url2': unknown key"),
        ("/fhir/Patient/{nhs}/$everything", "/fhir/Patient", "gp.yaml:6: key 'url': must contain {nhs}"),
        ("http://127.0.0.1:9102", "ftp://127.0.0.1:9102", "gp.yaml:6: key 'url': must be an absolute http"),
        ("[medication, allergy, test-result]", "[medication, pills]", "gp.yaml:8: key 'categories': unknown category 'pills'"),
        ("id: gp", "id: GP Practice", "gp.yaml:1: key 'id': must be 1–64 lower-case letters"),
        ("ods: Y12345\n", "", "gp.yaml:1: key 'ods': missing (required)"),
        ("categories: [medication, allergy, test-result]", "categories: medication", "gp.yaml:8: key 'categories': expected a list"),
        ("id: gp", "id: [gp", "gp.yaml: not valid YAML"),
    ])
    func refusesABadFileWithAClearMessage(_ original: String, _ replacement: String, _ expected: String) {
        let yaml = Self.valid.replacingOccurrences(of: original, with: replacement)
        do {
            _ = try ProviderDefinition(yaml: yaml, file: "gp.yaml")
            Issue.record("expected the file to be refused")
        } catch {
            #expect(error.description.hasPrefix(expected), "got: \(error.description)")
        }
    }

    @Test func poolSizeAndHTTPVersionAreSettingsOfTheProvidersClient() throws {
        let defaults = try ProviderDefinition(yaml: Self.valid, file: "gp.yaml")
        #expect(defaults.http2)
        let standard = HTTPProviderAdapter.clientConfiguration(for: defaults)
        #expect(standard.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit == 64)
        #expect(standard.httpVersion == .automatic)
        // No tracer: the global no-op one would still have the client build span attributes for every request.
        #expect(standard.tracing.tracer == nil)

        let tuned = try ProviderDefinition(yaml: Self.valid + "\nmax_connections: 200\nhttp2: false", file: "gp.yaml")
        #expect(tuned.maxConnections == 200)
        #expect(!tuned.http2)
        let configuration = HTTPProviderAdapter.clientConfiguration(for: tuned)
        #expect(configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit == 200)
        #expect(configuration.httpVersion == .http1Only)

        #expect(throws: ConfigurationError.self) {
            try ProviderDefinition(yaml: Self.valid + "\nhttp2: sometimes", file: "gp.yaml")
        }
    }

    @Test func registryLoadsAFolderAndRefusesDuplicateIds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-providers-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.valid.write(to: folder.appendingPathComponent("gp.yaml"), atomically: true, encoding: .utf8)
        try Self.valid.replacingOccurrences(of: "id: gp", with: "id: ambulance")
            .replacingOccurrences(of: "kind: gp", with: "kind: ambulance")
            .write(to: folder.appendingPathComponent("ambulance.yaml"), atomically: true, encoding: .utf8)
        try "not a provider".write(to: folder.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)

        let registry = try ProviderRegistry.load(directory: folder.path)
        #expect(registry.definitions.map(\.id) == ["ambulance", "gp"])

        try Self.valid.write(to: folder.appendingPathComponent("gp-copy.yaml"), atomically: true, encoding: .utf8)
        do {
            _ = try ProviderRegistry.load(directory: folder.path)
            Issue.record("a duplicate id must be refused")
        } catch {
            #expect(error.description.contains("gp-copy.yaml"))
            #expect(error.description.contains("already declared in"))
        }
    }

    @Test func registryRefusesAMissingOrEmptyFolder() throws {
        #expect(throws: ConfigurationError.self) { try ProviderRegistry.load(directory: "/nonexistent/caregate") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("caregate-empty-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try ProviderRegistry.load(directory: folder.path)
            Issue.record("an empty folder must be refused")
        } catch {
            #expect(error.description.contains("no provider files"))
        }
    }

    @Test func theShippedProviderFilesAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let registry = try ProviderRegistry.load(directory: root.appendingPathComponent("providers").path)
        // Six providers; the trust has two feeds (FHIR, and CDA documents).
        #expect(registry.definitions.count == 7)
        #expect(Set(registry.definitions.map(\.kind)).count == 6)
        #expect(Set(registry.definitions.map(\.format)) == [.fhirR4XML, .cda, .mappedXML])
        #expect(registry.definitions.filter { $0.format == .mappedXML }.allSatisfy { $0.mapping != nil })
    }
}

@Suite struct CircuitBreakerSettingsTests {
    @Test func readsTheBreakerFromTheProviderFile() throws {
        let yaml = ProviderDefinitionTests.valid + """

            circuit_breaker:
              failures: 3
              error_rate: 0.25
              window: 40
              minimum_calls: 12
              cool_down_ms: 2500
            """
        let settings = try ProviderDefinition(yaml: yaml, file: "gp.yaml").circuitBreaker
        #expect(settings == CircuitBreakerSettings(failureThreshold: 3, errorRate: 0.25, window: 40, minimumCalls: 12, coolDown: .milliseconds(2500)))
        #expect(try ProviderDefinition(yaml: ProviderDefinitionTests.valid, file: "gp.yaml").circuitBreaker == CircuitBreakerSettings())
    }

    @Test func aBadBreakerSettingNamesItsNestedKey() {
        let yaml = ProviderDefinitionTests.valid + "\ncircuit_breaker:\n  error_rate: lots\n"
        do {
            _ = try ProviderDefinition(yaml: yaml, file: "gp.yaml")
            Issue.record("must be refused")
        } catch {
            #expect(error.description == "gp.yaml:10: key 'circuit_breaker.error_rate': expected a fraction between 0.05 and 1, got 'lots'")
        }
    }
}

/// The charset a response's Content-Type names, as the decoders are given it.
@Suite struct ProviderResponseCharsetTests {
    @Test func theCharsetParameterIsReadWhereverItIsAndUnquoted() {
        let cases: [(String, String?)] = [
            ("application/xml; charset=iso-8859-1", "iso-8859-1"),
            ("application/fhir+xml;charset=\"windows-1252\"", "windows-1252"),
            ("text/xml; q=1 ;  charset = utf-16le ", "utf-16le"),
            ("application/xml", nil),
            ("application/xml; charset=", nil),
            ("application/xml; charset=\"\"", nil),
            ("application/xml; format=charset", nil),
            ("", nil),
        ]
        for (contentType, expected) in cases {
            #expect(ProviderResponse(status: 200, contentType: contentType, body: []).charset == expected, "\(contentType)")
        }
    }
}

/// Files a definition names, when it may name them only inside some folders (a definition sent to the admin API).
@Suite struct ProviderFileAccessTests {
    static let providers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("providers").path

    static func ambulance(mapping: String) -> String {
        """
        id: ambulance
        name: Ambulance
        kind: ambulance
        ods: R9A
        format: mapped-xml
        mapping: \(mapping)
        url: http://127.0.0.1:9104/epcr/patients/{nhs}
        timeout_ms: 800
        categories: [encounter]
        """
    }

    @Test func aFileInsideAnAllowedFolderIsReadAsAnywhere() throws {
        let definition = try ProviderDefinition(
            yaml: Self.ambulance(mapping: "ambulance.mapping.yaml"), file: "request body", relativeTo: Self.providers,
            files: .within([Self.providers]))
        #expect(definition.mapping != nil)
    }

    @Test func aFileOutsideIsRefusedNamingTheKeyAndTheFolders() throws {
        // The repository's own providers folder, reached from a folder beside it.
        let sibling = (Self.providers as NSString).deletingLastPathComponent + "/schemas"
        for mapping in ["../providers/ambulance.mapping.yaml", Self.providers + "/ambulance.mapping.yaml"] {
            let error = try #require(throws: ConfigurationError.self) {
                try ProviderDefinition(
                    yaml: Self.ambulance(mapping: mapping), file: "request body", relativeTo: sibling,
                    files: .within([sibling]))
            }
            #expect(error.key == "mapping")
            #expect(error.problem.contains("outside the folders"), "\(error)")
            #expect(error.problem.contains(sibling))
        }
        let none = try #require(throws: ConfigurationError.self) {
            try ProviderDefinition(
                yaml: Self.ambulance(mapping: "ambulance.mapping.yaml"), file: "request body", relativeTo: Self.providers,
                files: .within([]))
        }
        #expect(none.problem.contains("no folder is allowed"))
    }
}
