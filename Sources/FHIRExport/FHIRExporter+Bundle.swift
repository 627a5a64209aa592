import CareRecords

/// A provider that was asked but did not answer, for an OperationOutcome entry in a Bundle.
public struct FHIRProviderNotice: Sendable, Hashable {
    /// The provider's id (`gp`, `mh-trust`).
    public var provider: String
    /// Its outcome: `timeout`, `error`, `circuit-open`, `skipped`.
    public var status: String
    /// A short description of what went wrong, free of patient data.
    public var detail: String?
    /// Its kind (`gp`, `trust`, …), when known.
    public var kind: String?

    public init(provider: String, status: String, detail: String?, kind: String? = nil) {
        self.provider = provider
        self.status = status
        self.detail = detail
        self.kind = kind
    }
}

extension FHIRExporter {
    /// A searchset Bundle: `total` matches across all pages, `links` in the order given (`self`, `next`, …),
    /// each resource as a `match` entry with its `fullUrl`, then one `outcome` entry per notice: an
    /// OperationOutcome (severity warning, code incomplete) naming the provider and its status.
    public func searchset(
        _ resources: [FHIRResource], total: Int, links: [(relation: String, url: String)],
        notices: [FHIRProviderNotice]
    ) -> FHIRResource {
        FHIRResource(resourceType: "Bundle") { bundle in
            bundle.code("type", "searchset")
            bundle.number("total", String(max(0, total)))
            for link in links {
                bundle.repeating("link") { element in
                    element.string("relation", link.relation)
                    element.uri("url", link.url)
                }
            }
            for resource in resources {
                bundle.repeating("entry") { entry in
                    entry.uri("fullUrl", fullURL(resource))
                    entry.resource("resource", resource)
                    entry.element("search") { $0.code("mode", "match") }
                }
            }
            for notice in notices {
                bundle.repeating("entry") { entry in
                    entry.resource("resource", providerOutcome(notice))
                    entry.element("search") { $0.code("mode", "outcome") }
                }
            }
        }
    }

    /// The OperationOutcome for a provider that did not answer. Besides the text, the issue says which provider in
    /// an extension (`CareGateFHIRProfile.providerOutcomeExtension`), so that a gateway reading this Bundle as a
    /// provider (federation) can name the provider that did not answer behind it.
    public func providerOutcome(_ notice: FHIRProviderNotice) -> FHIRResource {
        FHIRResource(resourceType: "OperationOutcome") { outcome in
            outcome.repeating("issue") { issue in
                issue.repeating("extension", url: CareGateFHIRProfile.providerOutcomeExtension) { element in
                    element.repeating("extension", url: "provider") { $0.string("valueString", notice.provider) }
                    if let kind = notice.kind {
                        element.repeating("extension", url: "kind") { $0.string("valueString", kind) }
                    }
                    if let detail = notice.detail.flatMap(FHIRPrimitive.string) {
                        element.repeating("extension", url: "detail") { $0.string("valueString", detail) }
                    }
                }
                issue.code("severity", "warning")
                issue.code("code", "incomplete")
                issue.element("details") { details in
                    details.repeating("coding", coding(system: Self.providerStatusCodeSystem, code: notice.status))
                    details.string("text", "Provider \(notice.provider) did not answer (\(notice.status))")
                }
                let detail = notice.detail.flatMap(FHIRPrimitive.string).map { ": \($0)" } ?? ""
                issue.string("diagnostics", "provider \(notice.provider): \(notice.status)\(detail)")
            }
        }
    }

    /// An error body: severity error, the FHIR IssueType, CareGate's own code in `details.coding` and the
    /// diagnostics text.
    public func operationOutcome(issueType: String, code: String, diagnostics: String) -> FHIRResource {
        FHIRResource(resourceType: "OperationOutcome") { outcome in
            outcome.repeating("issue") { issue in
                issue.code("severity", "error")
                issue.code("code", issueType)
                issue.element("details") { details in
                    details.repeating("coding", coding(system: Self.errorCodeSystem, code: code))
                }
                issue.string("diagnostics", diagnostics)
            }
        }
    }
}
