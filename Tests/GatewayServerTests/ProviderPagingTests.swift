import CareRecords
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Providers
import Synchronization
import Testing

/// A FHIR provider may answer a search one page at a time (a searchset Bundle with a `next` link). Every page
/// must be fetched and merged, within the query's deadline; a page that cannot be had fails that provider, so
/// that part of a record is never shown as all of it. Before 2026-12-07 only the first page was read, and the
/// provider reported `ok` with the rest silently missing.
@Suite struct ProviderPagingTests {
    static let patient = try! NHSNumber("9990000018")

    /// A Bundle page of allergies with these ids, linking to `next` when given.
    static func page(_ ids: [String], next: String?) -> String {
        let link = next.map { #"<link><relation value="next"/><url value="\#($0)"/></link>"# } ?? ""
        let entries = ids.map { id in
            """
            <entry><fullUrl value="urn:uuid:\(id)"/><resource><AllergyIntolerance><id value="\(id)"/>\
            <clinicalStatus><coding><system value="http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"/>\
            <code value="active"/></coding></clinicalStatus><code><coding><system value="http://snomed.info/sct"/>\
            <code value="\(91_936_005 + ids.firstIndex(of: id)!)"/><display value="Allergy \(id)"/></coding></code>\
            <patient><reference value="Patient/p"/></patient><recordedDate value="2026-01-0\(ids.count)"/>\
            </AllergyIntolerance></resource></entry>
            """
        }.joined()
        return #"<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/>"# + link + entries + "</Bundle>"
    }

    /// Serves page 1 at `/records/{nhs}`, then what `pages` says for `/page/{n}` (given the server's base URL);
    /// counts the requests for pages after the first.
    static func withProvider(
        pages: @escaping @Sendable (Int, String) -> (status: HTTPResponse.Status, body: String),
        first: @escaping @Sendable (String) -> String,
        _ body: @Sendable (HTTPProviderAdapter, Shared<Int>) async throws -> Void
    ) async throws {
        let later = Shared(0)
        let base = Shared("")
        let router = Router()
        router.get("/records/:nhs") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/fhir+xml"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: first(base.value.withLock { $0 }))))
        }
        router.get("/page/:n") { _, context in
            later.value.withLock { $0 += 1 }
            let (status, text) = pages(Int(context.parameters.get("n") ?? "") ?? 0, base.value.withLock { $0 })
            return Response(
                status: status, headers: [.contentType: "application/fhir+xml"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let root = "http://127.0.0.1:\(client.port!)"
            base.value.withLock { $0 = root }
            let definition = try ProviderDefinition(
                yaml: """
                    id: paged
                    name: Paged GP
                    kind: gp
                    ods: Y99901
                    format: fhir-r4-xml
                    url: \(root)/records/{nhs}
                    timeout_ms: 2000
                    categories: [allergy]
                    """, file: "paged.yaml")
            let adapter = HTTPProviderAdapter(definition: definition, logger: Logger(label: "test"))
            do {
                try await body(adapter, later)
            } catch {
                try await adapter.shutdown()
                throw error
            }
            try await adapter.shutdown()
        }
    }

    static var deadline: ContinuousClock.Instant { .now + .seconds(5) }

    @Test func everyPageIsFetchedAndMerged() async throws {
        try await Self.withProvider(
            pages: { n, base in
                n == 2 ? (.ok, Self.page(["b1", "b2"], next: "\(base)/page/3")) : (.ok, Self.page(["c1"], next: nil))
            },
            first: { base in Self.page(["a1", "a2"], next: "\(base)/page/2") }
        ) { adapter, later in
            let record = try await adapter.fetch(Self.patient, deadline: Self.deadline)
            #expect(record.entries.map(\.source.id) == ["a1", "a2", "b1", "b2", "c1"])
            #expect(record.nextPage == nil)
            #expect(later.value.withLock { $0 } == 2)
        }
    }

    /// `providers check` counts a paged answer whole, as the gateway reads it.
    @Test func theConformanceCheckCountsEveryPage() async throws {
        try await Self.withProvider(
            pages: { _, _ in (.ok, Self.page(["b1", "b2"], next: nil)) },
            first: { base in Self.page(["a1"], next: "\(base)/page/2") }
        ) { adapter, _ in
            let report = await ConformanceCheck(definition: adapter.definition, schema: nil).run(patients: [Self.patient])
            let check = try #require(report.patients.first)
            #expect(check.paged)
            #expect(check.entriesByCategory == [.allergy: 3])
            #expect(report.passed, "\(check.problems)")
        }
    }

    @Test func aPageThatFailsFailsTheProviderNamingThePage() async throws {
        try await Self.withProvider(
            pages: { _, _ in (.internalServerError, "") },
            first: { base in Self.page(["a1"], next: "\(base)/page/2") }
        ) { adapter, _ in
            let failure = try await #require(throws: ProviderFailure.self) {
                try await adapter.fetch(Self.patient, deadline: Self.deadline)
            }
            #expect(failure.kind == .error)
            #expect(failure.reason == "page 2 of the results: HTTP 500 from provider")
        }
    }

    @Test func aNextLinkToAnotherServerIsNotFollowed() async throws {
        // Another host (a name for the same machine is still another origin), scheme or port.
        for other in ["http://localhost:1/page/2", "https://127.0.0.1/page/2", "http://127.0.0.1:1/page/2"] {
            try await Self.withProvider(
                pages: { _, _ in (.ok, Self.page(["x"], next: nil)) },
                first: { _ in Self.page(["a1"], next: other) }
            ) { adapter, later in
                let failure = try await #require(throws: ProviderFailure.self) {
                    try await adapter.fetch(Self.patient, deadline: Self.deadline)
                }
                #expect(failure.reason == "page 2 of the results is on another server; not followed", "\(other)")
                #expect(later.value.withLock { $0 } == 0)
            }
        }
    }

    @Test func pagesWithoutEndAreCutOffAtTheLimit() async throws {
        try await Self.withProvider(
            pages: { n, base in (.ok, Self.page(["p\(n)"], next: "/page/\(n + 1)")) },
            first: { _ in Self.page(["a1"], next: "/page/2") }
        ) { adapter, later in
            let failure = try await #require(throws: ProviderFailure.self) {
                try await adapter.fetch(Self.patient, deadline: Self.deadline)
            }
            #expect(failure.reason.hasPrefix("more than \(HTTPProviderAdapter.maximumPages) pages"))
            #expect(later.value.withLock { $0 } == HTTPProviderAdapter.maximumPages - 1)
        }
    }
}

/// A value the test's server and the test share.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
