import ArgumentParser
import CareRecords
import Foundation
import Providers
import XMLSupport

struct ProvidersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "Tools for provider teams.",
        subcommands: [CheckCommand.self])
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a provider's endpoint before registering it: fetch, validate, decode each test patient.",
        discussion: """
            Exits 0 only when every patient's response was fetched (HTTP 200, an XML content type), is valid \
            against the format's schema and decodes. FHIR and CDA responses are validated against the official \
            schemas in the schemas folder; a mapped-xml provider names its XSD with the provider file's `schema:` key.
            """)

    @Argument(help: "The provider file (providers/<id>.yaml).")
    var file: String

    @Option(name: .customLong("patient"), help: "A test patient's NHS number (repeatable; at least one).")
    var patients: [String] = []

    @Option(name: .long, help: "The folder holding CareGate's schemas.")
    var schemas: String = "schemas"

    @Option(name: .customLong("timeout-ms"), help: "How long to wait for each response.")
    var timeoutMilliseconds: Int = 10_000

    @Option(
        name: .customLong("as-user"),
        help: "For a provider of kind gateway: the user id to ask as (the other gateway decides and audits the access).")
    var asUser: String?

    @Option(name: .customLong("as-role"), help: "For a provider of kind gateway: the user's NHS RBAC job role code.")
    var asRole: String?

    @Option(name: .customLong("as-org"), help: "For a provider of kind gateway: the user's organisation (ODS code).")
    var asOrganisation: String?

    func run() async throws {
        guard !patients.isEmpty else { throw ValidationError("give at least one --patient NHS-NUMBER to fetch") }
        var numbers: [NHSNumber] = []
        for text in patients {
            do {
                numbers.append(try NHSNumber(text))
            } catch {
                throw ValidationError("--patient '\(text)': \(error)")
            }
        }
        let definition: ProviderDefinition
        do {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
            else { throw ValidationError("\(file): cannot read the provider file") }
            definition = try ProviderDefinition(yaml: text, file: file)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }

        let clinician = try clinician(for: definition)
        let schema = try loadSchema(for: definition)
        say("provider \(definition.id) — \(definition.name) — \(definition.format.rawValue) — \(definition.urlTemplate)")
        if let schema { say("schema: \(schema.name)") } else { say("schema: none (add `schema:` to the provider file)") }
        for line in definition.credentialSummary() { say(line) }
        let report = await ConformanceCheck(
            definition: definition, schema: schema, timeout: .milliseconds(timeoutMilliseconds), clinician: clinician
        ).run(patients: numbers)
        for result in report.patients { printResult(result) }
        say(report.passed ? "PASS: \(report.patients.count) patient(s) conform" : "FAIL")
        if !report.passed { throw ExitCode.failure }
    }

    /// Another gateway is asked only on behalf of a clinician: the one named here, launched for each test patient
    /// in turn (direct care), so the other gateway's relationship check passes and its audit names the check.
    private func clinician(for definition: ProviderDefinition) throws -> (@Sendable (NHSNumber) -> OnBehalfOf)? {
        guard definition.kind == .gateway else {
            guard asUser == nil, asRole == nil, asOrganisation == nil else {
                throw ValidationError("--as-user, --as-role and --as-org are only for a provider of kind gateway")
            }
            return nil
        }
        guard let asUser, let asRole, let asOrganisation else {
            throw ValidationError(
                "a gateway is asked on behalf of a clinician: give --as-user, --as-role and --as-org "
                    + "(the other gateway decides the access for that user and audits it)")
        }
        say("asking as \(asUser) (\(asRole), \(asOrganisation)), for each patient in turn")
        return { patient in
            OnBehalfOf(
                userID: asUser, name: "CareGate providers check (\(asUser))", organisation: asOrganisation, role: asRole,
                purpose: "direct-care", launchPatient: patient)
        }
    }

    private func loadSchema(for definition: ProviderDefinition) throws -> (schema: XMLSchema, name: String)? {
        do {
            return try ConformanceCheck.schema(for: definition, schemasFolder: schemas)
        } catch {
            throw ValidationError("\(error) (run from the repository root, or pass --schemas DIR)")
        }
    }

    private func printResult(_ result: PatientCheck) {
        let status = result.httpStatus.map { "HTTP \($0)" } ?? "no response"
        say("patient \(result.patient): \(status), \(result.latencyMilliseconds) ms, \(result.bytes) bytes — \(result.passed ? "ok" : "FAILED")")
        if !result.entriesByCategory.isEmpty {
            let counts = EntryCategory.allCases.compactMap { category in
                result.entriesByCategory[category].map { "\(category.rawValue) \($0)" }
            }
            say("  entries\(result.paged ? " (every page)" : ""): " + counts.joined(separator: ", "))
        }
        if result.unreadable > 0 { say("  skipped by the decoder (unreadable): \(result.unreadable)") }
        for problem in result.problems { say("  problem: \(problem)") }
        for error in result.schemaErrors.prefix(20) { say("  schema: \(error)") }
        if result.schemaErrors.count > 20 { say("  schema: … \(result.schemaErrors.count - 20) more") }
    }
}
