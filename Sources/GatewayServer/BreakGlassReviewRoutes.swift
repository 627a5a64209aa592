import Foundation
import Hummingbird
import Policy

/// Information governance's review of break-glass queries, for operators (`caregate.admin`):
///
/// - `POST /admin/audit/{sequence}/reviews` with `{"outcome": "appropriate" | "inappropriate" | "follow-up",
///   "note": "…"}` — reviews the query audit record `sequence` belongs to (201 with the review). The reviewer is the
///   token's user; nobody reviews their own emergency access (403 `own-access`), and only emergency records are
///   reviewed (409 `not-break-glass`). A later review supersedes an earlier one; both are kept.
/// - `GET /admin/audit/{sequence}/reviews` — every review of that query, oldest first.
struct BreakGlassReviewRoutes: Sendable {
    let access: AccessControl
    let authenticator: Authenticator

    func register(on audit: RouterGroup<GatewayRequestContext>) {
        audit.post(":sequence/reviews") { request, context in
            var request = request
            let record = try await breakGlassRecord(context)
            let caller = try await authenticator.caller(request)
            guard caller.userID != record.record.userID else {
                throw GatewayError(
                    .forbidden, code: "own-access", message: "a break-glass access is reviewed by someone other than its user")
            }
            let body = try await request.collectBody(upTo: 16 * 1024)
            let submitted = try Self.submission(Data(buffer: body))
            let review = BreakGlassReview(
                requestID: record.record.requestID, sequence: record.sequence, time: Date(), reviewerID: caller.userID,
                reviewerName: caller.name, outcome: submitted.outcome, note: submitted.note)
            try await AdminPolicyRoutes.audit { () async throws(AuditStoreError) in try await access.audit.addReview(review) }
            // Record numbers, outcome and reviewer only: the note and the record's patient stay in the store.
            context.logger.notice(
                "break-glass review recorded",
                metadata: [
                    "sequence": "\(review.sequence)", "outcome": "\(review.outcome.rawValue)",
                    "reviewer": "\(review.reviewerID)",
                ])
            var response = try AdminProviderRoutes.json(ReviewSummary(review))
            response.status = .created
            return response
        }
        audit.get(":sequence/reviews") { _, context in
            let record = try await breakGlassRecord(context)
            let reviews = try await AdminPolicyRoutes.audit { () async throws(AuditStoreError) in
                try await access.audit.reviews(requestID: record.record.requestID)
            }
            return try AdminProviderRoutes.json(
                ReviewList(requestId: record.record.requestID, reviews: reviews.map(ReviewSummary.init)))
        }
    }

    /// The emergency audit record the path names.
    private func breakGlassRecord(_ context: GatewayRequestContext) async throws -> StoredAuditRecord {
        guard let text = context.parameters.get("sequence"), let sequence = Int64(text), sequence > 0 else {
            throw GatewayError(
                .badRequest, code: "invalid-sequence",
                message: "path parameter 'sequence': an audit record's number (an AuditEvent's id), 1 or more")
        }
        let found = try await AdminPolicyRoutes.audit { () async throws(AuditStoreError) in
            try await access.audit.record(sequence: sequence)
        }
        guard let record = found else {
            throw GatewayError(.notFound, code: "no-such-record", message: "no audit record numbered \(sequence)")
        }
        guard record.record.purpose == AccessPurpose.emergency.rawValue else {
            throw GatewayError(
                .conflict, code: "not-break-glass",
                message: "audit record \(sequence) is not an emergency access; only break-glass queries are reviewed")
        }
        return record
    }

    struct Submission: Decodable {
        var outcome: String
        var note: String?
    }

    /// The body's outcome and note (trimmed; empty is none), or a 400 naming what is wrong.
    static func submission(_ body: Data) throws(GatewayError) -> (outcome: BreakGlassReview.Outcome, note: String?) {
        let outcomes = BreakGlassReview.Outcome.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let submission = try AdminProviderRoutes.jsonBody(
            Submission.self, body, code: "invalid-review",
            shape: "{\"outcome\": one of \(outcomes), \"note\": optional text}")
        guard let outcome = BreakGlassReview.Outcome(rawValue: submission.outcome) else {
            throw GatewayError(.badRequest, code: "invalid-outcome", message: "'outcome' must be one of \(outcomes)")
        }
        let note = submission.note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note, note.count > BreakGlassReview.noteLimit {
            throw GatewayError(
                .badRequest, code: "note-too-long",
                message: "'note' has \(note.count) characters; at most \(BreakGlassReview.noteLimit) are kept")
        }
        return (outcome, note?.isEmpty == false ? note : nil)
    }
}

/// One review, as the admin API shows it.
struct ReviewSummary: Codable, Sendable, Equatable {
    struct Reviewer: Codable, Sendable, Equatable {
        var id: String
        var name: String
    }

    var sequence: Int64
    var requestId: String
    var outcome: String
    var note: String?
    var reviewer: Reviewer
    var reviewedAt: String

    init(_ review: BreakGlassReview) {
        sequence = review.sequence
        requestId = review.requestID
        outcome = review.outcome.rawValue
        note = review.note
        reviewer = Reviewer(id: review.reviewerID, name: review.reviewerName)
        reviewedAt = AuditEvent.dateTime(review.time)
    }
}

struct ReviewList: Codable, Sendable {
    var requestId: String
    var reviews: [ReviewSummary]
}
