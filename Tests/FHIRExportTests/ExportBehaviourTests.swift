import CareGateTesting
import CareRecords
import FHIRExport
import Testing

/// What the routes and clients rely on: the resource types, ids, provenance, references, dates, values, the
/// status mapping, the Bundle's notices and links, the error body and the CapabilityStatement.
@Suite struct ExportBehaviourTests {
    let exporter = Shared.exporter

    func entry(_ id: String) throws -> MergedEntry { try #require(Fixtures.entries.first { $0.id == id }) }

    func json(_ id: String, status: String? = "__keep", date: String? = "__keep") throws -> JSONValue {
        var entry = try entry(id)
        if status != "__keep" { entry.status = status }
        if date != "__keep" { entry.date = date.flatMap { ClinicalDate($0) } }
        return try Shared.json(exporter.resource(for: entry, patient: Shared.nhs))
    }

    @Test func contentTypes() {
        #expect(FHIRFormat.json.contentType == "application/fhir+json; charset=utf-8")
        #expect(FHIRFormat.xml.contentType == "application/fhir+xml; charset=utf-8")
    }

    @Test func resourceTypeOfEachCategory() throws {
        let expected: [String: FHIRResourceType] = [
            "e-appointment-booked": .appointment, "e-encounter": .encounter, "e-medication-active": .medicationStatement,
            "e-allergy": .allergyIntolerance, "e-lab-numeric": .observation, "e-report": .diagnosticReport,
            "e-vital": .observation, "e-document": .documentReference, "e-care-plan": .carePlan,
            "e-condition": .condition, "e-immunisation": .immunization,
        ]
        for (id, type) in expected {
            #expect(FHIRResourceType.of(try entry(id)) == type, "\(id)")
            #expect(try json(id)["resourceType"]?.string == type.rawValue, "\(id)")
        }
        #expect(FHIRResourceType.clinical.first == .allergyIntolerance && !FHIRResourceType.clinical.contains(.patient))
        #expect(FHIRResourceType.clinical.count == 10)
        #expect(try json("e-lab-numeric")["category"]?[0]?["coding"]?[0]?["code"]?.string == "laboratory")
        #expect(try json("e-vital")["category"]?[0]?["coding"]?[0]?["code"]?.string == "vital-signs")
    }

    @Test func idsAreTheMergedIdsOrValidSubstitutes() throws {
        #expect(try json("e-allergy")["id"]?.string == "e-allergy")
        let odd = FHIRExporter.resourceID(for: "merged/entry:1 ü")
        let long = FHIRExporter.resourceID(for: String(repeating: "x", count: 70))
        for id in [odd, long] {
            #expect(id.utf8.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
        }
        #expect(odd.hasPrefix("merged-entry-1-"))
        #expect(FHIRExporter.resourceID(for: "a/b") != FHIRExporter.resourceID(for: "a:b"))
        #expect(try json("merged/entry:1 ü")["id"]?.string == odd)
        // A conflict names the other entries by the ids their resources have.
        let conflict = try json("e-medication-active")["extension"]?.array?.last
        let with = conflict?["extension"]?.array?.filter { $0["url"]?.string == "with" }.compactMap { $0["valueString"]?.string }
        #expect(with == ["e-medication-completed", FHIRExporter.resourceID(for: "bad id/1")])
    }

    @Test func provenanceNamesEverySource() throws {
        // Each source with its own line: the merged one, or where it differs, that source's.
        var entry = try entry("e-medication-active")
        entry.sourceSummaries[entry.sources[1]] = "Paracetamol — 1 g when required"
        let resource = try Shared.json(exporter.resource(for: entry, patient: Shared.nhs))
        #expect(resource["meta"]?["source"]?.string == "https://caregate.example/provider/gp")
        let extensions = try #require(resource["extension"]?.array)
        let sources = extensions.filter { $0["url"]?.string == "https://caregate.example/fhir/StructureDefinition/source" }
        let pairs = sources.map { source in
            (source["extension"]?.array ?? []).map { "\($0["url"]?.string ?? "?")=\($0["valueString"]?.string ?? "?")" }
        }
        #expect(pairs == [
            ["provider=gp", "id=med-1", "summary=Paracetamol 500mg tablets"],
            ["provider=mh-trust", "id=MS/77", "summary=Paracetamol — 1 g when required"],
        ])
        let conflict = try #require(extensions.first { $0["url"]?.string == "https://caregate.example/fhir/StructureDefinition/conflict" })
        #expect(conflict["extension"]?[0]?["url"]?.string == "field")
        #expect(conflict["extension"]?[0]?["valueString"]?.string == "dose")
        #expect(try json("e-allergy")["extension"]?.array?.count == 1)
    }

    @Test func everyClinicalResourceReferencesThePatientBothWays() throws {
        let subjectElement: [FHIRResourceType: String] = [.allergyIntolerance: "patient", .immunization: "patient"]
        for entry in Fixtures.entries {
            let type = FHIRResourceType.of(entry)
            let resource = try Shared.json(exporter.resource(for: entry, patient: Shared.nhs))
            let reference: JSONValue? = type == .appointment
                ? resource["participant"]?[0]?["actor"] : resource[subjectElement[type] ?? "subject"]
            #expect(reference?["reference"]?.string == "Patient/9434765919", "\(entry.id)")
            #expect(reference?["identifier"]?["system"]?.string == "https://fhir.nhs.uk/Id/nhs-number", "\(entry.id)")
            #expect(reference?["identifier"]?["value"]?.string == "9434765919", "\(entry.id)")
        }
        #expect(try json("e-appointment-booked")["participant"]?[0]?["status"]?.string == "accepted")
    }

    @Test func codeBecomesCodeableConceptWithSummaryAsText() throws {
        let code = try json("e-allergy")["code"]
        #expect(code?["coding"]?[0]?["system"]?.string == "http://snomed.info/sct")
        #expect(code?["coding"]?[0]?["code"]?.string == "91936005")
        #expect(code?["coding"]?[0]?["display"]?.string == "Allergy to penicillin")
        #expect(code?["text"]?.string == "Penicillin allergy")
        #expect(try json("e-condition")["code"]?["coding"] == nil)
        #expect(try json("e-condition")["code"]?["text"]?.string == "Asthma")
        // A system that is not a URI is left out rather than sent invalid; the code's whitespace is normalised.
        let odd = try json("e-condition-error")["code"]?["coding"]?[0]
        #expect(odd?["system"] == nil && odd?["code"]?.string == "195967001 x")
        // Required concepts never go missing: no code and a blank summary still give a text.
        #expect(try json("e-vital-blank")["code"]?["text"]?.string == "observation")
        #expect(try json("e-appointment-booked")["description"]?.string == "Cardiology <clinic> & \"review\" 'A'")
        #expect(try json("e-document")["content"]?[0]?["attachment"]?["title"]?.string == "Discharge summary\nline two\tend")
        #expect(try json("e-document")["content"]?[0]?["attachment"]?["contentType"]?.string == "text/plain")
        #expect(try json("e-care-plan")["title"]?.string == "Advance care plan")
        #expect(try json("e-care-plan")["intent"]?.string == "plan")
        #expect(try json("e-medication-active")["dosage"]?[0]?["text"]?.string == "1g four times a day")
    }

    @Test func datesGoWhereTheirPrecisionAllows() throws {
        // dateTime fields: as written when FHIR allows it; a time without seconds or zone keeps its day.
        #expect(try json("e-lab-comparator")["effectiveDateTime"]?.string == "2024-05-02T08:00:00.250-05:00")
        #expect(try json("e-vital")["effectiveDateTime"]?.string == "2024-05")
        #expect(try json("e-allergy")["recordedDate"]?.string == "2019")
        #expect(try json("e-encounter")["period"]?["start"]?.string == "2024-03-05")
        #expect(try json("e-lab-text")["effectiveDateTime"]?.string == "2024-05-03")  // +14:30 is beyond FHIR's zones
        // instant fields only take a full date-time.
        #expect(try json("e-appointment-booked")["start"]?.string == "2024-06-01T09:30:00+01:00")
        #expect(try json("e-appointment-booked")["requestedPeriod"] == nil)
        #expect(try json("e-appointment-day")["start"] == nil)
        #expect(try json("e-appointment-day")["requestedPeriod"]?[0]?["start"]?.string == "2024-07-15")
        #expect(try json("e-document")["date"]?.string == "2024-02-01T10:00:00Z")
        #expect(try json("e-document-day")["date"] == nil)
        #expect(try json("e-document-day")["content"]?[0]?["attachment"]?["creation"]?.string == "2024-02-02")
        #expect(try json("e-immunisation")["occurrenceString"]?.string == "unknown")
        #expect(try json("merged/entry:1 ü")["occurrenceDateTime"]?.string == "2021-03-01T09:00:00Z")
        let patient = try Shared.json(exporter.patient(Shared.nhs, demographics: Shared.demographics))
        #expect(patient["birthDate"]?.string == "1970-04-05")
    }

    @Test func valuesAreQuantitiesWhenNumeric() throws {
        let glucose = String(decoding: exporter.resource(for: try entry("e-lab-numeric"), patient: Shared.nhs).encoded(.json), as: UTF8.self)
        #expect(glucose.contains(#""valueQuantity":{"value":5.00,"unit":"mmol/L"}"#))
        let crp = try json("e-lab-comparator")["valueQuantity"]
        #expect(crp?["value"] == .number("0.5") && crp?["comparator"]?.string == "<")
        #expect(try json("e-vital")["valueQuantity"]?["value"] == .number("120"))
        #expect(try json("e-lab-text")["valueString"]?.string == "positive")
        #expect(try json("e-lab-text")["valueQuantity"] == nil)
        #expect(try json("e-vital-blank")["valueString"]?.string == "1,5 kg")
    }

    @Test(arguments: [
        ("e-appointment-booked", "status", "Booked", "booked"), ("e-appointment-booked", "status", "DNA", "noshow"),
        ("e-appointment-booked", "status", "cancelled", "cancelled"), ("e-appointment-booked", "status", nil, "booked"),
        ("e-encounter", "status", "completed", "finished"), ("e-encounter", "status", "in progress", "in-progress"),
        ("e-encounter", "status", "whatever", "unknown"), ("e-encounter", "status", nil, "unknown"),
        ("e-medication-active", "status", "active", "active"), ("e-medication-active", "status", "Completed", "completed"),
        ("e-medication-active", "status", "on_hold", "on-hold"), ("e-medication-active", "status", "inactive", "completed"),
        ("e-medication-active", "status", nil, "unknown"),
        ("e-lab-numeric", "status", "final", "final"), ("e-lab-numeric", "status", "amended", "amended"),
        ("e-lab-numeric", "status", "completed", "final"), ("e-lab-numeric", "status", nil, "final"),
        ("e-report", "status", "partial", "partial"), ("e-report", "status", nil, "final"),
        ("e-document", "status", nil, "current"), ("e-document", "status", "superseded", "superseded"),
        ("e-care-plan", "status", "Active", "active"), ("e-care-plan", "status", "cancelled", "revoked"),
        ("e-care-plan", "status", nil, "unknown"),
        ("e-immunisation", "status", nil, "completed"), ("e-immunisation", "status", "not done", "not-done"),
    ] as [(String, String, String?, String)])
    func statusMapsIntoTheRequiredValueSet(_ id: String, _ element: String, _ provider: String?, _ expected: String) throws {
        #expect(try json(id, status: provider)[element]?.string == expected)
    }

    @Test func clinicalStatusesAreCodeableConcepts() throws {
        func clinical(_ id: String, _ status: String?) throws -> JSONValue? {
            try json(id, status: status)["clinicalStatus"]?["coding"]?[0]
        }
        #expect(try clinical("e-allergy", nil)?["system"]?.string == "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical")
        #expect(try clinical("e-allergy", nil)?["code"]?.string == "active")
        #expect(try clinical("e-allergy", "resolved")?["code"]?.string == "resolved")
        #expect(try clinical("e-condition", "completed")?["system"]?.string == "http://terminology.hl7.org/CodeSystem/condition-clinical")
        #expect(try clinical("e-condition", "completed")?["code"]?.string == "resolved")
        #expect(try clinical("e-condition", "remission")?["code"]?.string == "remission")
        // Entered in error: a verification status and no clinical status (ait-1, con-5).
        let allergy = try json("e-allergy-error")
        #expect(allergy["clinicalStatus"] == nil)
        #expect(allergy["verificationStatus"]?["coding"]?[0]?["code"]?.string == "entered-in-error")
        #expect(try json("e-condition-error")["clinicalStatus"] == nil)
    }

    @Test func encounterHasAClass() throws {
        let encounterClass = try json("e-encounter")["class"]
        #expect(encounterClass?["system"]?.string == "http://terminology.hl7.org/CodeSystem/v3-ActCode")
        #expect(encounterClass?["code"]?.string == "AMB")
    }

    @Test func searchsetListsMatchesThenNotices() throws {
        let bundle = try Shared.json(Shared.bundle)
        #expect(bundle["type"]?.string == "searchset")
        #expect(bundle["total"] == .number("120"))
        let links = try #require(bundle["link"]?.array)
        #expect(links.map { $0["relation"]?.string ?? "" } == ["self", "next"])
        #expect(links[1]["url"]?.string == Shared.links[1].url)
        let entries = try #require(bundle["entry"]?.array)
        let matches = Shared.allResources.count
        #expect(entries.count == matches + 2)
        for (index, entry) in entries.enumerated() {
            let isNotice = index >= matches
            #expect(entry["search"]?["mode"]?.string == (isNotice ? "outcome" : "match"))
            #expect((entry["fullUrl"] == nil) == isNotice)
        }
        #expect(entries[0]["fullUrl"]?.string == "http://127.0.0.1:8080/fhir/Patient/9434765919")
        #expect(entries[1]["fullUrl"]?.string == "http://127.0.0.1:8080/fhir/Appointment/e-appointment-booked")

        let notice = try #require(entries[matches]["resource"])
        #expect(notice["resourceType"]?.string == "OperationOutcome")
        let issue = notice["issue"]?[0]
        #expect(issue?["severity"]?.string == "warning")
        #expect(issue?["code"]?.string == "incomplete")
        #expect(issue?["details"]?["coding"]?[0]?["code"]?.string == "timeout")
        #expect(issue?["diagnostics"]?.string?.contains("ambulance") == true)
        #expect(issue?["diagnostics"]?.string?.contains("no answer within 800 ms") == true)
        #expect(entries[matches + 1]["resource"]?["issue"]?[0]?["details"]?["coding"]?[0]?["code"]?.string == "circuit-open")
        #expect(entries[matches + 1]["resource"]?["issue"]?[0]?["diagnostics"]?.string?.contains("care-home") == true)
    }

    @Test func errorOutcome() throws {
        let outcome = try Shared.json(Shared.errorOutcome)
        let issue = outcome["issue"]?[0]
        #expect(issue?["severity"]?.string == "error")
        #expect(issue?["code"]?.string == "forbidden")
        #expect(issue?["details"]?["coding"]?[0]?["system"]?.string == "https://caregate.example/CodeSystem/error")
        #expect(issue?["details"]?["coding"]?[0]?["code"]?.string == "no-legitimate-relationship")
        #expect(issue?["diagnostics"]?.string == "the token's patient is not the path's <patient> & no break-glass")
    }

    /// Byte-exact output, both formats, for one small resource: escaping, order, compactness.
    @Test func byteExactEncoding() {
        let outcome = exporter.operationOutcome(issueType: "invalid", code: "invalid-nhs-number", diagnostics: "a \"b\" <c> & d\u{1}\n")
        #expect(String(decoding: outcome.encoded(.json), as: UTF8.self) == #"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","details":{"coding":[{"system":"https://caregate.example/CodeSystem/error","code":"invalid-nhs-number"}]},"diagnostics":"a \"b\" <c> & d"}]}"#)
        #expect(String(decoding: outcome.encoded(.xml), as: UTF8.self) == #"<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="invalid"/><details><coding><system value="https://caregate.example/CodeSystem/error"/><code value="invalid-nhs-number"/></coding></details><diagnostics value="a &quot;b&quot; &lt;c&gt; &amp; d"/></issue></OperationOutcome>"#)
        let patient = exporter.patient(Shared.nhs, demographics: PatientDemographics(givenName: "Zoë\tA", gender: "male"))
        #expect(String(decoding: patient.encoded(.json), as: UTF8.self) == #"{"resourceType":"Patient","id":"9434765919","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"name":[{"given":["Zoë\tA"]}],"gender":"male"}"#)
        #expect(String(decoding: patient.encoded(.xml), as: UTF8.self) == #"<Patient xmlns="http://hl7.org/fhir"><id value="9434765919"/><identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9434765919"/></identifier><name><given value="Zoë&#9;A"/></name><gender value="male"/></Patient>"#)
    }

    @Test func capabilityStatement() throws {
        let statement = try Shared.json(Shared.capabilityStatement)
        #expect(statement["status"]?.string == "active")
        #expect(statement["kind"]?.string == "instance")
        #expect(statement["fhirVersion"]?.string == "4.0.1")
        #expect(statement["date"]?.string == "2026-11-25")
        let formats = statement["format"]?.array?.compactMap(\.string) ?? []
        #expect(formats.contains("application/fhir+json") && formats.contains("application/fhir+xml"))
        #expect(statement["software"]?["name"]?.string == "CareGate")
        #expect(statement["software"]?["version"]?.string == "1.4.0")
        #expect(statement["implementation"]?["url"]?.string == Shared.baseURL)

        let rest = try #require(statement["rest"]?[0])
        #expect(rest["mode"]?.string == "server")
        let documentation = rest["documentation"]?.string ?? ""
        #expect(documentation.contains(FHIRExporter.Provenance.sourceExtension))
        #expect(documentation.contains(FHIRExporter.Provenance.conflictExtension))
        let service = rest["security"]?["service"]?[0]?["coding"]?[0]
        #expect(service?["system"]?.string == "http://terminology.hl7.org/CodeSystem/restful-security-service")
        #expect(service?["code"]?.string == "SMART-on-FHIR")
        let security = rest["security"]?["description"]?.string ?? ""
        #expect(security.contains("Bearer") && security.contains("`patient`") && security.contains("`role`"))

        let resources = try #require(rest["resource"]?.array)
        #expect(resources.compactMap { $0["type"]?.string } == FHIRResourceType.allCases.map(\.rawValue))
        let patient = resources[0]
        #expect(patient["interaction"]?.array?.compactMap { $0["code"]?.string } == ["read", "search-type"])
        #expect(patient["searchParam"]?[0]?["name"]?.string == "identifier")
        #expect(patient["searchParam"]?[0]?["type"]?.string == "token")
        #expect(patient["operation"]?[0]?["name"]?.string == "everything")
        #expect(patient["operation"]?[0]?["definition"]?.string == "http://hl7.org/fhir/OperationDefinition/Patient-everything")
        let everything = patient["operation"]?[0]?["documentation"]?.string ?? ""
        for parameter in ["_type", "start", "end", "_since", "_count"] {
            #expect(everything.contains("`\(parameter)`"), "\(parameter)")
        }
        for resource in resources.dropFirst() {
            #expect(resource["interaction"]?.array?.compactMap { $0["code"]?.string } == ["search-type"])
            let parameters = resource["searchParam"]?.array?.map { "\($0["name"]?.string ?? "")/\($0["type"]?.string ?? "")" }
            #expect(parameters == ["patient/reference", "_count/number", "_offset/number"])
        }
    }
}
