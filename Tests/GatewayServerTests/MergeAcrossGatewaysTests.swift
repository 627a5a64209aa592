import CareRecords
import FHIRExport
import ProviderFormats
import RecordMerge
import Testing

/// What the north gateway's merge decided survives a hub's merge of north's FHIR Bundle (federation).
@Suite struct MergeAcrossGatewaysTests {
    static let paracetamol = Coding(system: Coding.System.dmd, code: "322236009", display: "Paracetamol 500mg tablets")

    static func entry(_ provider: String, _ id: String, _ date: String, administered: Bool) -> CareEntry {
        CareEntry(
            category: .medication, code: paracetamol, date: ClinicalDate(date), summary: "Paracetamol 500mg tablets — 1 g",
            dose: "1 g by mouth", administered: administered, source: SourceReference(provider: ProviderID(provider), id: id))
    }

    /// Exported as a MedicationStatement marked `administered`, a dose given is merged by the hub as north did: two
    /// doses of paracetamol given months apart stay two, and neither joins the GP's paracetamol.
    @Test func aHubMergesDosesGivenAsTheGatewayBehindItDid() throws {
        let north = RecordMerger.merge([
            Self.entry("ambulance", "d8", "2025-12-07T14:19:00Z", administered: true),
            Self.entry("ambulance", "d16", "2026-12-08T01:05:00Z", administered: true),
            Self.entry("gp", "g1", "2024-01-01", administered: false),
        ]).entries
        #expect(north.map(\.administered) == [true, true, false])

        let exporter = FHIRExporter(baseURL: "https://north.caregate.test/fhir")
        let patient = try NHSNumber("9990000018")
        let bundle = exporter.searchset(
            north.map { exporter.resource(for: $0, patient: patient) }, total: north.count, links: [], notices: [])
        let body = bundle.encoded(.xml)
        let marked = String(decoding: body, as: UTF8.self).components(
            separatedBy: CareGateFHIRProfile.administeredExtension
        ).count - 1
        #expect(marked == 2)

        let decoded = try FHIRR4XMLDecoder(gateway: true).decode(body, from: "north")
        #expect(decoded.entries.map(\.administered) == [true, true, false])
        let hub = RecordMerger.merge(decoded.entries).entries
        #expect(hub.map { $0.sources.map(\.id) } == [["d16"], ["d8"], ["g1"]])
        #expect(hub.map(\.administered) == [true, true, false])
        // Another provider's extension with the same name is read only from a gateway.
        #expect(try FHIRR4XMLDecoder().decode(body, from: "north").entries.allSatisfy { !$0.administered })
    }

    /// Each source's own line travels with it: the hub merges the copies into one fact again (they share an
    /// identifier naming north's entry, whatever their lines), with north's line and north's per-source lines.
    @Test func aHubKeepsEachSourcesOwnLine() throws {
        let penicillin = Coding(system: Coding.System.snomedCT, code: "764146007", display: "Penicillin")
        func allergy(_ provider: String, _ summary: String) -> CareEntry {
            CareEntry(
                category: .allergy, code: penicillin, summary: summary, status: "active",
                source: SourceReference(provider: ProviderID(provider), id: "\(provider)-1"))
        }
        let north = RecordMerger.merge([
            allergy("care-home", "Penicillin — Urticaria"),
            allergy("gp", "Penicillin allergy — reaction: Urticaria; criticality: high"),
        ]).entries
        #expect(north.count == 1)
        #expect(north[0].sourceSummaries == [SourceReference(provider: "care-home", id: "care-home-1"): "Penicillin — Urticaria"])

        let exporter = FHIRExporter(baseURL: "https://north.caregate.test/fhir")
        let patient = try NHSNumber("9990000018")
        let body = exporter.searchset(
            north.map { exporter.resource(for: $0, patient: patient) }, total: north.count, links: [], notices: []
        ).encoded(.xml)
        let hub = RecordMerger.merge(try FHIRR4XMLDecoder(gateway: true).decode(body, from: "north").entries).entries
        #expect(hub.count == 1)
        #expect(hub.first?.summary == north[0].summary)
        #expect(hub.first?.sourceSummaries == [SourceReference(provider: "north/care-home", id: "care-home-1"): "Penicillin — Urticaria"])
    }
}
