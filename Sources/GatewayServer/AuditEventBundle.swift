import CareRecords
import Foundation
import Policy

/// Audit records as a FHIR R4 `searchset` Bundle of `AuditEvent` resources, for `GET /admin/audit?patient=`:
/// so a person can be told who looked at their record, when, for what purpose, and what was decided.
///
/// Each AuditEvent carries: `recorded`; `outcome` (`0` allowed, `4` refused) with the reason in `outcomeDesc`;
/// `purposeOfEvent` (`TREAT`, or `ETREAT` for emergency/break-glass); the user as the requesting agent (SDS user
/// id, name, job role) and their organisation (ODS code) as a second agent, and for a query that came through
/// another CareGate gateway, that gateway as a third (`dataprocessor`); the patient (NHS number) and the
/// query as entities, the query's details holding the request id, any break-glass reason, each provider asked
/// with its outcome and the entries returned per category (counts only). In the break-glass review list, an event
/// whose query has been reviewed carries the latest review as an extension (`CareGateFHIRProfile`).
struct AuditEventBundle: Encodable {
    let resourceType = "Bundle"
    let type = "searchset"
    /// How many records match: given when these are all of them (not with a `next` page to come).
    let total: Int?
    /// `next`, when the records were one page of several (the break-glass review).
    let link: [Link]?
    let entry: [Entry]

    struct Link: Encodable {
        let relation: String
        let url: String
    }

    struct Entry: Encodable {
        let fullUrl: String
        let resource: AuditEvent
        let search = Search()

        struct Search: Encodable {
            let mode = "match"
        }
    }

    init(records: [StoredAuditRecord], next: String? = nil) {
        self.init(breakGlass: records.map { BreakGlassRecord(stored: $0, review: nil) }, next: next)
    }

    init(breakGlass records: [BreakGlassRecord], next: String? = nil) {
        total = next == nil ? records.count : nil
        link = next.map { [Link(relation: "next", url: $0)] }
        entry = records.map { record in
            Entry(
                fullUrl: "urn:uuid:\(record.stored.record.requestID)",
                resource: AuditEvent(record.stored, review: record.review))
        }
    }
}

struct AuditEvent: Encodable {
    struct Coding: Encodable {
        var system: String
        var code: String
        var display: String?
    }

    struct CodeableConcept: Encodable {
        var coding: [Coding]
        var text: String?
    }

    struct Identifier: Encodable {
        var system: String
        var value: String
    }

    struct Reference: Encodable {
        var identifier: Identifier?
        var display: String?
    }

    struct Agent: Encodable {
        var type: CodeableConcept
        var role: [CodeableConcept]?
        var who: Reference
        var requestor: Bool
    }

    struct Source: Encodable {
        var site: String
        var observer: Reference
        var type: [Coding]
    }

    struct Detail: Encodable {
        var type: String
        var valueString: String
    }

    /// A FHIR extension: the review's nested parts, or one of them with its value.
    struct Extension: Encodable {
        var url: String
        var `extension`: [Extension]?
        var valueCode: String?
        var valueString: String?
        var valueDateTime: String?
        var valueReference: Reference?
    }

    struct Entity: Encodable {
        var what: Reference?
        var type: Coding
        var role: Coding
        var description: String?
        var detail: [Detail]?
    }

    let resourceType = "AuditEvent"
    var id: String
    var `extension`: [Extension]?
    var type: Coding
    var subtype: [Coding]
    var action: String
    var recorded: String
    var outcome: String
    var outcomeDesc: String
    var purposeOfEvent: [CodeableConcept]
    var agent: [Agent]
    var source: Source
    var entity: [Entity]

    /// The identifier system of a federated gateway's id, as this gateway's `auth.gateways` names it.
    static let gatewaySystem = "https://caregate.example/Id/gateway"

    init(_ stored: StoredAuditRecord, review: BreakGlassReview? = nil) {
        let record = stored.record
        id = String(stored.sequence)
        `extension` = review.map { [Self.reviewExtension($0)] }
        type = Coding(
            system: "http://terminology.hl7.org/CodeSystem/audit-event-type", code: "rest", display: "RESTful Operation")
        // An operator's opt-out change is a create or a delete of the patient's objection; every other record a read.
        let change: (code: String, display: String, action: String)? =
            switch record.reason {
            case AuditRecord.optOutAddReason: ("create", "create", "C")
            case AuditRecord.optOutRemoveReason: ("delete", "delete", "D")
            default: nil
            }
        subtype = [
            Coding(
                system: "http://hl7.org/fhir/restful-interaction", code: change?.code ?? "search-type",
                display: change?.display ?? "search type")
        ]
        action = change?.action ?? "R"
        recorded = Self.dateTime(record.time)
        outcome = record.decision == .allowed ? "0" : "4"
        outcomeDesc = record.reason
        let emergency = record.purpose == "emergency"
        let administration = record.purpose == AuditRecord.administrationPurpose
        purposeOfEvent = [
            CodeableConcept(
                coding: [
                    Coding(
                        system: "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        code: administration ? "HOPERAT" : emergency ? "ETREAT" : "TREAT",
                        display: administration ? "healthcare operations" : emergency ? "Emergency Treatment" : "treatment")
                ], text: record.purpose)
        ]
        agent = [
            Agent(
                type: CodeableConcept(coding: [
                    Coding(
                        system: "http://terminology.hl7.org/CodeSystem/extra-security-role-type", code: "humanuser",
                        display: "human user")
                ]),
                // A change made from the command line has no job role.
                role: record.role.isEmpty
                    ? nil
                    : [CodeableConcept(coding: [Coding(system: "https://fhir.nhs.uk/CodeSystem/NHSJobRoleCode", code: record.role)])],
                who: Reference(
                    identifier: Identifier(system: "https://fhir.nhs.uk/Id/sds-user-id", value: record.userID),
                    display: record.userName),
                requestor: true),
            Agent(
                type: CodeableConcept(coding: [
                    Coding(
                        system: "http://terminology.hl7.org/CodeSystem/v3-RoleClass", code: "PROV",
                        display: "healthcare provider")
                ]),
                role: nil,
                who: record.organisation.isEmpty
                    ? Reference(identifier: nil, display: "no organisation: the gateway's command line")
                    : Reference(
                        identifier: Identifier(system: "https://fhir.nhs.uk/Id/ods-organization-code", value: record.organisation),
                        display: nil),
                requestor: false),
        ]
        // A query that came through another CareGate gateway (federation) names it: the user is that gateway's.
        if let via = record.viaGateway {
            agent.append(
                Agent(
                    type: CodeableConcept(coding: [
                        Coding(
                            system: "http://terminology.hl7.org/CodeSystem/extra-security-role-type", code: "dataprocessor",
                            display: "data processor")
                    ]),
                    role: nil,
                    who: Reference(
                        identifier: Identifier(system: Self.gatewaySystem, value: via),
                        display: "asked through the gateway \(via)"),
                    requestor: false))
        }
        source = Source(
            site: "CareGate", observer: Reference(identifier: nil, display: "CareGate gateway"),
            type: [Coding(system: "http://terminology.hl7.org/CodeSystem/security-source-type", code: "3", display: "Web Server")])

        var details = [Detail(type: "request-id", valueString: record.requestID)]
        if let reason = record.breakGlassReason { details.append(Detail(type: "break-glass-reason", valueString: reason)) }
        details += record.providers.map { Detail(type: "provider:\($0.provider)", valueString: $0.status) }
        details += record.entriesPerCategory.sorted { $0.key < $1.key }.map {
            Detail(type: "entries:\($0.key)", valueString: String($0.value))
        }
        entity = [
            Entity(
                what: Reference(
                    identifier: Identifier(system: "https://fhir.nhs.uk/Id/nhs-number", value: record.patient.digits),
                    display: nil),
                type: Coding(system: "http://terminology.hl7.org/CodeSystem/audit-entity-type", code: "1", display: "Person"),
                role: Coding(system: "http://terminology.hl7.org/CodeSystem/object-role", code: "1", display: "Patient"),
                description: nil, detail: nil),
            Entity(
                what: nil,
                type: Coding(
                    system: "http://terminology.hl7.org/CodeSystem/audit-entity-type", code: "2", display: "System Object"),
                role: change == nil
                    ? Coding(system: "http://terminology.hl7.org/CodeSystem/object-role", code: "24", display: "Query")
                    : Coding(system: "http://terminology.hl7.org/CodeSystem/object-role", code: "4", display: "Domain Resource"),
                description: record.route, detail: details),
        ]
    }

    static func reviewExtension(_ review: BreakGlassReview) -> Extension {
        var parts = [
            Extension(url: "outcome", valueCode: review.outcome.rawValue),
            Extension(
                url: "reviewer",
                valueReference: Reference(
                    identifier: Identifier(system: "https://fhir.nhs.uk/Id/sds-user-id", value: review.reviewerID),
                    display: review.reviewerName)),
            Extension(url: "reviewed", valueDateTime: Self.dateTime(review.time)),
        ]
        if let note = review.note { parts.append(Extension(url: "note", valueString: note)) }
        return Extension(url: CareGateFHIRProfile.breakGlassReviewExtension, extension: parts)
    }

    static func dateTime(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
