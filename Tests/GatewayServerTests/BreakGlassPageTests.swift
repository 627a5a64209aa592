import CareRecords
import Foundation
import Policy
import Testing

@testable import GatewayServer

/// The break-glass review's `next` link carries a `since` the route reads back exactly, and the record to start
/// after.
@Suite struct BreakGlassPageTests {
    @Test func theNextLinkReadsBackAsTheSameSince() throws {
        let since = Date(timeIntervalSince1970: 1_796_000_000.125)
        let link = AdminPolicyRoutes.nextPage(since: since, after: 4321)
        let query = try #require(URLComponents(string: link)?.queryItems)
        #expect(query.first { $0.name == "purpose" }?.value == "emergency")
        #expect(query.first { $0.name == "after" }?.value == "4321")
        let text = try #require(query.first { $0.name == "since" }?.value)
        #expect(text == "2026-11-30T00:53:20.125Z")
        #expect(AuditTime.parse(text) == since)
    }

    /// A user's `next` link: the user id (with characters a query treats specially) and `since` read back exactly.
    @Test func aUsersNextLinkReadsBackTheUserAndTheSince() throws {
        let since = Date(timeIntervalSince1970: 1_796_000_000.125)
        let link = AdminPolicyRoutes.nextPage(.user("ig+test&x y=z"), since: since, after: 17)
        #expect(!link.contains("+") && !link.contains(" "))
        let query = try #require(URLComponents(string: link)?.queryItems)
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        #expect(value("user") == "ig+test&x y=z")
        #expect(value("after") == "17")
        #expect(AuditTime.parse(value("since") ?? "") == since)
        #expect(!AdminPolicyRoutes.nextPage(.user("u"), since: nil, after: 1).contains("since"))
        let bounded = AdminPolicyRoutes.nextPage(.patient(try NHSNumber("9990000026")), since: nil, until: since, after: 2)
        let items = try #require(URLComponents(string: bounded)?.queryItems)
        #expect(items.first { $0.name == "patient" }?.value == "9990000026")
        #expect(AuditTime.parse(items.first { $0.name == "until" }?.value ?? "") == since)
    }

    @Test func sinceIsADateOrADateTime() {
        #expect(AuditTime.parse("2026-12-01") == Date(timeIntervalSince1970: 1_796_083_200))
        #expect(AuditTime.parse("2026-12-01T09:00:00Z") == Date(timeIntervalSince1970: 1_796_083_200 + 9 * 3600))
        for bad in ["yesterday", "2026-13-01", "01/12/2026", ""] { #expect(AuditTime.parse(bad) == nil, "\(bad)") }
    }
}
