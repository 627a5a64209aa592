import CareRecords

extension FHIRExporter {
    /// The `$everything` parameters CareGate supports, as documented in the CapabilityStatement.
    public static let everythingParameters: [(name: String, documentation: String)] = [
        ("_type", "Comma-separated resource types to include (e.g. `MedicationStatement,AllergyIntolerance`); "
            + "providers holding none of them are not asked."),
        ("start", "Only resources dated on or after this date (FHIR date or dateTime)."),
        ("end", "Only resources dated on or before this date (FHIR date or dateTime)."),
        ("_since", "Only resources dated at or after this instant."),
        ("_count", "Page size; the Bundle's `next` link gives the following page."),
    ]

    /// A CapabilityStatement for this server: an instance (kind `instance`, so `implementation` is present, as
    /// cpb-14 requires), FHIR 4.0.1 in JSON and XML, SMART-on-FHIR bearer tokens, Patient read and search by
    /// identifier with `$everything`, and search by patient on each clinical type.
    ///
    /// - Parameter date: when this statement was last changed, a FHIR dateTime (e.g. the build date).
    public func capabilityStatement(softwareVersion: String, date: String) -> FHIRResource {
        FHIRResource(resourceType: "CapabilityStatement") { statement in
            statement.string("name", "CareGate")
            statement.string("title", "CareGate FHIR R4 read-only facade")
            statement.code("status", "active")
            statement.lexical("date", date)
            statement.string("publisher", "CareGate")
            statement.string("description", "Read-only FHIR R4 view of a patient's shared care record, merged on "
                + "request from every care provider's system. CareGate stores no clinical data.")
            statement.code("kind", "instance")
            statement.element("software") { software in
                software.string("name", "CareGate")
                software.string("version", softwareVersion)
            }
            statement.element("implementation") { implementation in
                implementation.string("description", "CareGate federated care-record gateway")
                implementation.uri("url", baseURL)
            }
            statement.code("fhirVersion", "4.0.1")
            statement.codes("format", ["json", "xml", FHIRFormat.json.mimeType, FHIRFormat.xml.mimeType])
            statement.repeating("rest") { rest in restComponent(into: &rest) }
        }
    }

    static let restDocumentation = """
        Every request needs `Authorization: Bearer <JWT>` (SMART on FHIR style; see `security`). Each resource is \
        built on request from the providers' answers; nothing is stored.

        **Provenance.** Every clinical resource has `meta.source` = \
        `\(Provenance.sourcePrefix)<provider id>` (its first source) and one extension \
        `\(Provenance.sourceExtension)` per provider that reported it, with nested extensions `provider` \
        (valueString, CareGate's provider id), `id` (valueString, that provider's own id for the fact) and \
        `summary` (valueString, that provider's own line for it). An entry \
        that disagrees with another on what matters clinically carries the extension \
        `\(Provenance.conflictExtension)` with nested `field` (valueString: `dose`, `value` or `status`) and one \
        `with` (valueString: the other resource's id) per entry it disagrees with. A MedicationStatement that is \
        a dose given once at its `effectiveDateTime` (an ambulance crew's drug, a provider's \
        MedicationAdministration), not a medicine the patient is on, carries `\(Provenance.administeredExtension)` \
        (valueBoolean true).

        **Partial results.** When a provider that was asked did not answer, a search Bundle holds, after the \
        matches, an entry with `search.mode` = `outcome`: an OperationOutcome with severity `warning`, code \
        `incomplete`, the provider's outcome in `details.coding` (system \
        `\(FHIRExporter.providerStatusCodeSystem)`) and the provider named in `diagnostics`.

        **Paging.** `_count` and `_offset`; `Bundle.total` counts all matches, and `next`/`previous` links page \
        through them.

        **Errors** are OperationOutcomes with CareGate's own reason code in `details.coding` (system \
        `\(FHIRExporter.errorCodeSystem)`).
        """

    private func restComponent(into rest: inout FHIRElementBuilder) {
        rest.code("mode", "server")
        rest.string("documentation", Self.restDocumentation)
        rest.element("security") { security in
            security.repeating("service") { service in
                service.repeating("coding", coding(
                    system: "http://terminology.hl7.org/CodeSystem/restful-security-service", code: "SMART-on-FHIR",
                    display: "SMART-on-FHIR"))
                service.string("text", "OAuth2 bearer token (SMART on FHIR)")
            }
            security.string("description", """
                `Authorization: Bearer <JWT>` signed with RS256, PS256 or ES256 by the trusted identity provider \
                (verified against its JWKS: known `kid`, issuer, audience, `exp`/`nbf`). Required claims: `sub`, \
                `name`, `org` (ODS code), `role` (NHS RBAC job role code), `purpose` (`direct-care` or \
                `emergency`) and `patient` (the NHS number the session is for); break-glass needs `purpose` \
                `emergency` and the `CareGate-Break-Glass-Reason` header.
                """)
        }
        rest.repeating("resource") { resource in
            resource.code("type", FHIRResourceType.patient.rawValue)
            resource.string("documentation", "The patient, id their NHS number. `$everything` returns the patient "
                + "and every clinical resource CareGate can gather for them, as a searchset Bundle.")
            resource.repeating("interaction") { $0.code("code", "read") }
            resource.repeating("interaction") { $0.code("code", "search-type") }
            resource.repeating("searchParam") { parameter in
                parameter.string("name", "identifier")
                parameter.uri("definition", "http://hl7.org/fhir/SearchParameter/Patient-identifier")
                parameter.code("type", "token")
                parameter.string("documentation", "`\(Self.nhsNumberSystem)|<NHS number>`")
            }
            resource.repeating("operation") { operation in
                operation.string("name", "everything")
                operation.uri("definition", "http://hl7.org/fhir/OperationDefinition/Patient-everything")
                operation.string("documentation", "Parameters: " + Self.everythingParameters.map {
                    "`\($0.name)`: \($0.documentation)"
                }.joined(separator: " "))
            }
        }
        for type in FHIRResourceType.clinical {
            rest.repeating("resource") { resource in
                resource.code("type", type.rawValue)
                resource.string("documentation", "Carries CareGate's provenance extensions (see rest.documentation).")
                resource.repeating("interaction") { $0.code("code", "search-type") }
                resource.repeating("searchParam") { parameter in
                    parameter.string("name", "patient")
                    parameter.code("type", "reference")
                    parameter.string("documentation", "`Patient/<NHS number>` or the NHS number; required.")
                }
                resource.repeating("searchParam") { parameter in
                    parameter.string("name", "_count")
                    parameter.code("type", "number")
                    parameter.string("documentation", "Page size.")
                }
                resource.repeating("searchParam") { parameter in
                    parameter.string("name", "_offset")
                    parameter.code("type", "number")
                    parameter.string("documentation", "Index of the first match on the page (0-based).")
                }
            }
        }
    }
}
