import Foundation
import Hummingbird
import Policy

/// `GET /admin/audit/users[?since=…][&until=…][&limit=…]`: per user, their queries of records in the period — how
/// many, how many different patients, how many broke the glass, how many were refused — most patients first.
/// Information governance's look for the user whose accesses stand out (an insider reaching far more patients than
/// their work explains, or one refused again and again); `GET /admin/audit?user=…` then lists what that user did.
/// Counts and user ids only: no patient is named.
struct AccessVolumeRoute: Sendable {
    let access: AccessControl

    /// The period when none is given: the last day.
    static let defaultPeriod: TimeInterval = 86_400
    static let defaultLimit = 100
    static let maximumLimit = 1000

    func register(on audit: RouterGroup<GatewayRequestContext>) {
        audit.get("users") { request, _ in
            try await report(request.uri.queryParameters)
        }
    }

    func report(_ query: Parameters) async throws -> Response {
        let until = try AdminPolicyRoutes.time(query, "until") ?? Date()
        let since = try AdminPolicyRoutes.time(query, "since") ?? until.addingTimeInterval(-Self.defaultPeriod)
        guard since < until else {
            throw GatewayError(.badRequest, code: "invalid-period", message: "'since' must be before 'until'")
        }
        var limit = Self.defaultLimit
        if let text = query.get("limit") {
            guard let number = Int(text), (1...Self.maximumLimit).contains(number) else {
                throw GatewayError(
                    .badRequest, code: "invalid-limit",
                    message: "query parameter 'limit': expected a number of users from 1 to \(Self.maximumLimit)")
            }
            limit = number
        }
        // One more than asked for says whether the list was cut short.
        let users = try await AdminPolicyRoutes.audit { () async throws(AuditStoreError) in
            try await access.audit.accessVolume(since: since, until: until, limit: limit + 1)
        }
        return try AdminProviderRoutes.json(
            AccessVolumeReport(since: since, until: until, users: Array(users.prefix(limit)), truncated: users.count > limit))
    }
}

/// The access volume report as JSON: the period, and per user their counts, most patients first.
struct AccessVolumeReport: Encodable, Sendable {
    struct User: Encodable, Sendable {
        var user: String
        var name: String
        var organisations: [String]
        var roles: [String]
        var queries: Int
        var patients: Int
        var emergency: Int
        var refused: Int
        var first: String
        var last: String
    }

    var since: String
    var until: String
    var users: [User]
    /// More users queried in the period than the list holds.
    var truncated: Bool

    init(since: Date, until: Date, users: [UserAccessSummary], truncated: Bool) {
        self.since = AuditTime.text(since)
        self.until = AuditTime.text(until)
        self.users = users.map {
            User(
                user: $0.userID, name: $0.userName, organisations: $0.organisations, roles: $0.roles, queries: $0.queries,
                patients: $0.patients, emergency: $0.emergency, refused: $0.refused, first: AuditTime.text($0.first),
                last: AuditTime.text($0.last))
        }
        self.truncated = truncated
    }
}
