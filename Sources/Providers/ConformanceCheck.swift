import CareRecords
import Foundation
import Logging
import ProviderFormats
import XMLSupport

/// What a provider team runs against its own endpoint before registering it: for each test patient, fetch the
/// record, validate it against the format's schema, decode it, and say what came out.
public struct ConformanceCheck: Sendable {
    public let definition: ProviderDefinition
    private let schema: (schema: XMLSchema, name: String)?
    private let timeout: Duration
    private let clinician: (@Sendable (NHSNumber) -> OnBehalfOf)?
    private let logger: Logger

    /// - Parameters:
    ///   - schema: the XSD the responses must validate against (with a name to print), or nil to skip validation.
    ///   - clinician: for a provider that is another gateway, whom each patient is asked for (it decides and audits
    ///     the access as for any clinician); without one, such a provider cannot be asked.
    public init(
        definition: ProviderDefinition, schema: (schema: XMLSchema, name: String)?, timeout: Duration = .seconds(10),
        clinician: (@Sendable (NHSNumber) -> OnBehalfOf)? = nil,
        logger: Logger = Logger(label: "caregate.providers-check")
    ) {
        self.definition = definition
        self.schema = schema
        self.timeout = timeout
        self.clinician = clinician
        self.logger = logger
    }

    /// A check validating against the schema `schema(for:schemasFolder:)` finds for the provider.
    public init(
        definition: ProviderDefinition, schemasFolder: String, timeout: Duration = .seconds(10),
        clinician: (@Sendable (NHSNumber) -> OnBehalfOf)? = nil,
        logger: Logger = Logger(label: "caregate.providers-check")
    ) throws(SchemaUnavailable) {
        self.init(
            definition: definition, schema: try Self.schema(for: definition, schemasFolder: schemasFolder),
            timeout: timeout, clinician: clinician, logger: logger)
    }

    /// The XSD a provider's responses are validated against: the file its `schema:` names, else its format's official
    /// schema in `schemasFolder` (FHIR R4, CDA R2 with the SDTC extensions); nil for mapped XML without `schema:`.
    /// - Throws: a message naming the file when it is missing or cannot be loaded.
    public static func schema(for definition: ProviderDefinition, schemasFolder: String) throws(SchemaUnavailable)
        -> (schema: XMLSchema, name: String)?
    {
        let path: String
        if let file = definition.schemaFile {
            path = file
        } else {
            switch definition.format {
            case .fhirR4XML: path = (schemasFolder as NSString).appendingPathComponent("fhir-r4/fhir-single.xsd")
            case .cda: path = (schemasFolder as NSString).appendingPathComponent("cda-r2-sdtc/infrastructure/cda/CDA_SDTC.xsd")
            case .mappedXML: return nil
            }
        }
        guard FileManager.default.fileExists(atPath: path) else { throw SchemaUnavailable(message: "schema not found: \(path)") }
        do {
            return (try XMLSchema(path: path), (path as NSString).lastPathComponent)
        } catch {
            throw SchemaUnavailable(message: "schema \(path) cannot be loaded: \(error)")
        }
    }

    public struct SchemaUnavailable: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public func run(patients: [NHSNumber]) async -> ConformanceReport {
        let adapter = HTTPProviderAdapter(definition: definition, logger: logger)
        var results: [PatientCheck] = []
        for patient in patients {
            let asking = clinician?(patient)
            results.append(await OnBehalfOf.$current.withValue(asking) { await check(patient, with: adapter) })
        }
        try? await adapter.shutdown()
        return ConformanceReport(definition: definition, schemaName: schema?.name, patients: results)
    }

    private func check(_ patient: NHSNumber, with adapter: HTTPProviderAdapter) async -> PatientCheck {
        var result = PatientCheck(patient: patient)
        let start = ContinuousClock.now
        let response: ProviderResponse
        do {
            response = try await adapter.exchange(patient, deadline: start + timeout)
        } catch {
            result.latencyMilliseconds = Self.milliseconds(start.duration(to: .now))
            result.problems.append("no response: \(error.reason)")
            return result
        }
        result.latencyMilliseconds = Self.milliseconds(start.duration(to: .now))
        result.httpStatus = response.status
        result.bytes = response.body.count
        guard response.status == 200 else {
            result.problems.append("HTTP \(response.status), expected 200")
            return result
        }
        if !response.contentType.contains("xml") {
            result.problems.append("content type '\(response.contentType)', expected an XML type")
        }
        if let schema {
            let element: (name: String, namespace: String)? =
                definition.format == .cda ? ("ClinicalDocument", "urn:hl7-org:v3") : nil
            result.schemaErrors = schema.schema.validate(response.body, eachElement: element, charset: response.charset)
            if !result.schemaErrors.isEmpty {
                result.problems.append("\(result.schemaErrors.count) schema error(s) against \(schema.name)")
            }
        }
        var record: DecodedRecord
        do {
            record = try adapter.decoder.decode(response.body, charset: response.charset, from: definition.id)
        } catch {
            result.problems.append("not decodable: \(error.description)")
            return result
        }
        // A paged answer is counted whole, fetched as the gateway fetches it (its pages are not schema-checked).
        if record.nextPage != nil {
            do {
                record = try await adapter.fetch(patient, deadline: .now + timeout)
                result.paged = true
            } catch {
                result.problems.append("paged results: \(error.reason)")
            }
        }
        for entry in record.entries { result.entriesByCategory[entry.category, default: 0] += 1 }
        result.unreadable = record.unreadable
        return result
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// The outcome of a conformance check for one provider.
public struct ConformanceReport: Sendable {
    public var definition: ProviderDefinition
    /// The schema the responses were validated against; nil when none was available.
    public var schemaName: String?
    public var patients: [PatientCheck]

    /// True when every patient's response was fetched, valid and decodable.
    public var passed: Bool { !patients.isEmpty && patients.allSatisfy(\.passed) }
}

/// One test patient's result.
public struct PatientCheck: Sendable {
    public var patient: NHSNumber
    public var httpStatus: Int?
    public var latencyMilliseconds = 0
    public var bytes = 0
    /// Each with its line number, from libxml2's schema validation.
    public var schemaErrors: [String] = []
    public var entriesByCategory: [EntryCategory: Int] = [:]
    /// Parts of the response the decoder recognised but had to leave out.
    public var unreadable = 0
    /// True when the answer came in pages (a FHIR `next` link), every one of them fetched and counted.
    public var paged = false
    /// Everything that makes this patient's check fail.
    public var problems: [String] = []

    public init(patient: NHSNumber) { self.patient = patient }

    public var passed: Bool { problems.isEmpty }
}
