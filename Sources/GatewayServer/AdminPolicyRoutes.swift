import CareRecords
import Foundation
import Hummingbird
import Policy

/// The opt-out registry and the audit trail, for operators (a token with the `caregate.admin` scope):
///
/// - `GET /admin/opt-outs` — every opt-out; `GET|PUT|DELETE /admin/opt-outs/{nhs}` — one patient's.
///   A PUT takes effect for the next query on every replica sharing the store.
/// - `GET /admin/audit?patient={nhs}` — a FHIR R4 Bundle of AuditEvent resources: who looked at this person's
///   record, when, why, and what was decided. `GET /admin/audit?user={id}` — every record of one member of staff's.
/// - `GET /admin/audit/verification` — recomputes the whole hash chain, as `caregate audit verify` does.
/// - `GET /admin/audit/users` — per user, how many queries and patients in a period (see `AccessVolumeRoute`).
/// - `GET /admin/audit?purpose=emergency[&reviewed=…]` — the break-glass review list;
///   `GET|POST /admin/audit/{sequence}/reviews` — the reviews of one break-glass query (see `BreakGlassReviewRoutes`).
struct AdminPolicyRoutes: Sendable {
    let access: AccessControl
    let authenticator: Authenticator

    func register(on router: Router<GatewayRequestContext>) {
        let operators = OperatorOnlyMiddleware(authenticator: authenticator)
        let optOuts = router.group("/admin/opt-outs").add(middleware: operators)
        optOuts.get { _, _ in
            let all = try await Self.store { () async throws(OptOutStoreError) in try await access.optOuts.list() }
            return try AdminProviderRoutes.json(OptOutList(optOuts: all.map(OptOutSummary.init)))
        }
        optOuts.get(":nhs") { _, context in
            let patient = try Self.patient(context)
            let all = try await Self.store { () async throws(OptOutStoreError) in try await access.optOuts.list() }
            guard let optOut = all.first(where: { $0.nhsNumber == patient }) else {
                throw GatewayError(.notFound, code: "not-opted-out", message: "this NHS number is not on the opt-out registry")
            }
            return try AdminProviderRoutes.json(OptOutSummary(optOut))
        }
        // An operator's change is written to the audit trail before it is made: a patient asking who looked at their
        // record is also told who changed their objection to sharing it, and a trail that cannot take the record
        // refuses the change (503), as the records routes refuse to share.
        let changes = AuditedOptOutChanges(registry: access.optOuts, trail: access.audit)
        optOuts.put(":nhs") { request, context in
            let patient = try Self.patient(context)
            let caller = try await authenticator.caller(request)
            let added = try await Self.change { () async throws(AuditedOptOutChanges.Failure) in
                try await changes.add(patient, source: "admin-api:\(caller.userID)", by: Self.changer(caller))
            }
            return Response(status: added ? .created : .ok)
        }
        optOuts.delete(":nhs") { request, context in
            let patient = try Self.patient(context)
            let caller = try await authenticator.caller(request)
            let removed = try await Self.change { () async throws(AuditedOptOutChanges.Failure) in
                try await changes.remove(patient, by: Self.changer(caller))
            }
            guard removed else {
                throw GatewayError(.notFound, code: "not-opted-out", message: "this NHS number is not on the opt-out registry")
            }
            return Response(status: .noContent)
        }

        let audit = router.group("/admin/audit").add(
            middleware: OperatorOnlyMiddleware(authenticator: authenticator, admitsAuditors: true))
        BreakGlassReviewRoutes(access: access, authenticator: authenticator).register(on: audit)
        AccessVolumeRoute(access: access).register(on: audit)
        audit.get("verification") { _, _ in
            let verification = try await Self.audit { () async throws(AuditStoreError) in try await access.audit.verify() }
            return try AdminProviderRoutes.json(ChainVerification(verification))
        }
        audit.get { request, _ in
            let query = request.uri.queryParameters
            guard ["patient", "user", "purpose"].filter({ query.get($0) != nil }).count <= 1 else {
                throw GatewayError(
                    .badRequest, code: "invalid-query", message: "give one of 'patient', 'user' or 'purpose', not several")
            }
            if let purpose = query.get("purpose") {
                return try await breakGlassReview(purpose: purpose, query: query)
            }
            if let user = query.get("user") {
                guard !user.isEmpty, user.count <= Self.userIDLimit else {
                    throw GatewayError(
                        .badRequest, code: "invalid-user",
                        message: "query parameter 'user': expected a user id of 1 to \(Self.userIDLimit) characters")
                }
                return try await records(.user(user), query: query)
            }
            guard let text = query.get("patient") else {
                throw GatewayError(
                    .badRequest, code: "missing-patient",
                    message: "query parameter 'patient' (an NHS number) is required, or 'user' (a user id) for one member "
                        + "of staff's accesses, or 'purpose=emergency' to review break-glass")
            }
            let patient: NHSNumber
            do {
                patient = try NHSNumber(text)
            } catch {
                throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "query parameter 'patient': \(error)")
            }
            return try await records(.patient(patient), query: query)
        }
    }

    /// The operator as an opt-out change's audit record names them.
    static func changer(_ caller: VerifiedCaller) -> AuditedOptOutChanges.Operator {
        AuditedOptOutChanges.Operator(
            userID: caller.userID, userName: caller.name, organisation: caller.organisation, role: caller.role,
            route: "/admin/opt-outs/{nhs}")
    }

    /// Runs an audited opt-out change; either store failing is a 503 naming it.
    static func change<T>(_ body: () async throws(AuditedOptOutChanges.Failure) -> T) async throws(GatewayError) -> T {
        do {
            return try await body()
        } catch {
            switch error {
            case .audit(let error):
                throw GatewayError(
                    .serviceUnavailable, code: "audit-unavailable", message: "the audit trail cannot be reached: \(error)")
            case .registry(let error):
                throw GatewayError(
                    .serviceUnavailable, code: "opt-out-store-unavailable", message: "the opt-out registry: \(error)")
            }
        }
    }

    /// The most records one page of an audit search holds.
    static let pageSize = 1000

    /// The longest user id searched for (an SDS user id is 12 digits; a token's `sub` may be longer, never this long).
    static let userIDLimit = 256

    /// `GET /admin/audit?patient={nhs}` — who looked at this person's record — or `?user={id}` — every record of one
    /// member of staff's (the token's `sub`, as the AuditEvents' first agent names them), whoever's record it reached:
    /// what information governance reads when a patient asks, or when someone's accesses are in question (a
    /// complaint, a colleague's concern, a break-glass review that found one inappropriate). From `since` (an ISO 8601
    /// date or date-time; by default the first record), in chain order, a page of at most `pageSize` with a `next`
    /// link while more remain.
    private func records(_ search: AuditSearch, query: Parameters) async throws -> Response {
        guard query.get("reviewed") == nil else {
            throw GatewayError(
                .badRequest, code: "invalid-query", message: "query parameter 'reviewed' goes with 'purpose=emergency' only")
        }
        let since = try Self.since(query)
        let until = try Self.time(query, "until")
        if let since, let until, since >= until {
            throw GatewayError(.badRequest, code: "invalid-period", message: "'since' must be before 'until'")
        }
        let after = try Self.after(query)
        let records = try await Self.audit { () async throws(AuditStoreError) in
            try await access.audit.records(search, since: since, until: until, after: after, limit: Self.pageSize)
        }
        var next: String?
        if records.count == Self.pageSize, let last = records.last {
            next = Self.nextPage(search, since: since, until: until, after: last.sequence)
        }
        return try Self.bundle(AuditEventBundle(records: records, next: next))
    }

    /// `GET /admin/audit?purpose=emergency[&since=…][&reviewed=…][&after=…]`: every break-glass access since `since`
    /// (an ISO 8601 date or date-time; by default the last 7 days), in chain order, a page of at most `pageSize`,
    /// with a `next` link while more remain — the review information governance makes of every emergency access. Each
    /// carries the latest review of its query, if any; `reviewed=false` lists those still awaiting one.
    private func breakGlassReview(purpose: String, query: Parameters) async throws -> Response {
        guard purpose == AccessPurpose.emergency.rawValue else {
            throw GatewayError(
                .badRequest, code: "invalid-purpose",
                message: "query parameter 'purpose': only 'emergency' is searched (the break-glass review)")
        }
        let since = try Self.since(query) ?? Date().addingTimeInterval(-7 * 86_400)
        let reviewed: Bool?
        switch query.get("reviewed") {
        case nil: reviewed = nil
        case "true": reviewed = true
        case "false": reviewed = false
        default:
            throw GatewayError(
                .badRequest, code: "invalid-reviewed",
                message: "query parameter 'reviewed': 'true' (reviewed queries only) or 'false' (those awaiting review)")
        }
        let after = try Self.after(query)
        let records = try await Self.audit { () async throws(AuditStoreError) in
            try await access.audit.breakGlassRecords(
                since: since, after: after, limit: Self.pageSize, reviewed: reviewed)
        }
        var next: String?
        if records.count == Self.pageSize, let last = records.last {
            next = Self.nextPage(since: since, after: last.stored.sequence, reviewed: reviewed)
        }
        return try Self.bundle(AuditEventBundle(breakGlass: records, next: next))
    }

    /// The `since` a search was given, if any.
    static func since(_ query: Parameters) throws(GatewayError) -> Date? {
        try time(query, "since")
    }

    /// A time parameter (`since`, `until`), if given.
    static func time(_ query: Parameters, _ name: String) throws(GatewayError) -> Date? {
        guard let text = query.get(name) else { return nil }
        guard let date = AuditTime.parse(text) else {
            throw GatewayError(
                .badRequest, code: "invalid-\(name)",
                message: "query parameter '\(name)': expected an ISO 8601 date (2026-12-01) or date-time (2026-12-01T09:00:00Z)")
        }
        return date
    }

    /// The record number a page starts after (from a `next` link), or 0.
    static func after(_ query: Parameters) throws(GatewayError) -> Int64 {
        guard let text = query.get("after") else { return 0 }
        guard let number = Int64(text), number >= 0 else {
            throw GatewayError(
                .badRequest, code: "invalid-after", message: "query parameter 'after': expected a record number, 0 or more")
        }
        return number
    }

    /// The break-glass review's next page: the same `since` and `reviewed`, after the record numbered `after`.
    static func nextPage(since: Date, after: Int64, reviewed: Bool? = nil) -> String {
        "/admin/audit?purpose=emergency&since=\(AuditTime.text(since))&after=\(after)" + (reviewed.map { "&reviewed=\($0)" } ?? "")
    }

    /// A patient's or a user's records' next page: the same search and period, after the record numbered `after`.
    static func nextPage(_ search: AuditSearch, since: Date?, until: Date? = nil, after: Int64) -> String {
        let searched: URLQueryItem =
            switch search {
            case .patient(let patient): URLQueryItem(name: "patient", value: patient.digits)
            case .user(let user): URLQueryItem(name: "user", value: user)
            }
        var query = URLComponents()
        query.queryItems = [searched]
            + (since.map { [URLQueryItem(name: "since", value: AuditTime.text($0))] } ?? [])
            + (until.map { [URLQueryItem(name: "until", value: AuditTime.text($0))] } ?? [])
            + [URLQueryItem(name: "after", value: String(after))]
        // URLComponents leaves '+' as it is, which a query reads back as a space.
        let encoded = query.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        return "/admin/audit?" + encoded
    }

    static func bundle(_ bundle: AuditEventBundle) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/fhir+json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(bundle))))
    }

    static func patient(_ context: GatewayRequestContext) throws(GatewayError) -> NHSNumber {
        do {
            return try NHSNumber((context.parameters.get("nhs") ?? "").removingPercentEncoding ?? "")
        } catch {
            throw GatewayError(.badRequest, code: "invalid-nhs-number", message: "path parameter 'nhs': \(error)")
        }
    }

    /// Runs an audit trail call; a trail that cannot be reached is a 503.
    static func audit<T>(_ body: () async throws(AuditStoreError) -> T) async throws(GatewayError) -> T {
        do {
            return try await body()
        } catch {
            throw GatewayError(
                .serviceUnavailable, code: "audit-unavailable", message: "the audit trail cannot be reached: \(error)")
        }
    }

    /// Runs a registry call; a store that cannot be reached is a 503.
    static func store<T>(_ body: () async throws(OptOutStoreError) -> T) async throws(GatewayError) -> T {
        do {
            return try await body()
        } catch {
            throw GatewayError(
                .serviceUnavailable, code: "opt-out-store-unavailable", message: "the opt-out registry: \(error)")
        }
    }
}

struct OptOutSummary: Codable, Sendable {
    var nhsNumber: String
    var recordedAt: String
    var source: String

    init(_ optOut: OptOut) {
        nhsNumber = optOut.nhsNumber.digits
        recordedAt = optOut.recordedAt.ISO8601Format()
        source = optOut.source
    }
}

struct OptOutList: Codable, Sendable {
    var optOuts: [OptOutSummary]
}

/// `GET /admin/audit/verification`: whether every record is present and matches its hash, or the first that is not.
struct ChainVerification: Codable, Sendable {
    var intact: Bool
    /// Records checked, when intact.
    var records: Int64?
    /// The first record at which the chain does not hold, and why (never patient data).
    var brokenAt: Int64?
    var reason: String?

    init(_ verification: AuditVerification) {
        switch verification {
        case .intact(let count):
            intact = true
            records = count
        case .broken(let sequence, let reason):
            intact = false
            brokenAt = sequence
            self.reason = reason
        }
    }
}
