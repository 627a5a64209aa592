import CareRecords

/// A provider that was asked but did not answer, for an OperationOutcome entry in a Bundle.
public struct FHIRProviderNotice: Sendable, Hashable {
    /// The provider's id (`gp`, `mh-trust`).
    public var provider: String
    /// Its outcome: `timeout`, `error`, `circuit-open`, `skipped`.
    public var status: String
    /// A short description of what went wrong, free of patient data.
    public var detail: String?

    public init(provider: String, status: String, detail: String?) {
        self.provider = provider
        self.status = status
        self.detail = detail
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

    /// The OperationOutcome for a provider that did not answer.
    public func providerOutcome(_ notice: FHIRProviderNotice) -> FHIRResource {
        FHIRResource(resourceType: "OperationOutcome") { outcome in
            outcome.repeating("issue") { issue in
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
