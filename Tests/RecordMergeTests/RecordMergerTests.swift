import CareRecords
import RecordMerge
import Testing

@Suite struct RecordMergerTests {
    static let amoxicillin = Coding(system: Coding.System.dmd, code: "323509004", display: "Amoxicillin 500mg capsules")
    static let penicillin = Coding(system: Coding.System.snomedCT, code: "764146007", display: "Penicillin")
    static let sodium = Coding(system: Coding.System.loinc, code: "2951-2", display: "Sodium")

    func entry(
        _ category: EntryCategory, _ code: Coding?, provider: String, id: String, date: String? = nil,
        dose: String? = nil, value: Quantity? = nil, identifiers: [EntryIdentifier] = [], summary: String = "s",
        status: String? = nil
    ) -> CareEntry {
        CareEntry(
            category: category, code: code, date: date.flatMap(ClinicalDate.init), summary: summary, status: status,
            value: value, dose: dose, identifiers: identifiers,
            source: SourceReference(provider: ProviderID(provider), id: id))
    }

    /// In A&E, an active penicillin allergy must read as active whatever another source withdrew, and whichever
    /// provider's answer comes first.
    @Test(arguments: ["entered-in-error", "refuted"])
    func aWithdrawnStatementNeverMergesWithAnotherSourcesAssertion(withdrawn: String) throws {
        for withdrawnFirst in [true, false] {
            var entries = [
                entry(.allergy, Self.penicillin, provider: "acute-trust", id: "a1", status: withdrawn),
                entry(.allergy, Self.penicillin, provider: "gp", id: "a2", status: "active"),
                entry(.allergy, Self.penicillin, provider: "care-home", id: "CH-3", status: "active"),
            ]
            if !withdrawnFirst { entries.reverse() }
            let result = RecordMerger.merge(entries)
            #expect(result.entries.count == 2)
            let active = try #require(result.entries.first { $0.status == "active" })
            #expect(active.sources.map(\.provider) == ["care-home", "gp"])
            let other = try #require(result.entries.first { $0.status == withdrawn })
            #expect(other.sources.map(\.provider) == ["acute-trust"])
        }
    }

    @Test func aVaccineNotGivenIsNotTheVaccineGivenThatDay() {
        let tetanus = Coding(system: "http://hl7.org/fhir/sid/cvx", code: "115", display: "Tdap")
        let result = RecordMerger.merge([
            entry(.immunisation, tetanus, provider: "nhs111", id: "i1", date: "2023-01-15", status: "not-done"),
            entry(.immunisation, tetanus, provider: "gp", id: "i2", date: "2023-01-15", status: "completed"),
            entry(.immunisation, tetanus, provider: "mh-trust", id: "i3", date: "2023-01-15", status: "completed"),
        ])
        #expect(result.entries.count == 2)
        #expect(result.entries.first { $0.status == "completed" }?.sources.map(\.provider) == ["gp", "mh-trust"])
        #expect(result.entries.first { $0.status == "not-done" }?.sources.map(\.provider) == ["nhs111"])
    }

    @Test func anyMemberActiveMakesTheMergedFactActiveWhateverTheOrder() {
        let statuses = ["inactive", "active", "resolved"]
        for rotation in 0..<statuses.count {
            let rotated = Array(statuses[rotation...] + statuses[..<rotation])
            let result = RecordMerger.merge(rotated.enumerated().map { index, status in
                entry(.allergy, Self.penicillin, provider: "p\(index)", id: "a\(index)", status: status)
            })
            #expect(result.entries.count == 1)
            #expect(result.entries[0].status == "active", "\(rotated)")
        }
        // Without an active member, the first status given stands.
        let quiet = RecordMerger.merge([
            entry(.allergy, Self.penicillin, provider: "gp", id: "a1"),
            entry(.allergy, Self.penicillin, provider: "care-home", id: "a2", status: "inactive"),
            entry(.allergy, Self.penicillin, provider: "mh-trust", id: "a3", status: "resolved"),
        ])
        #expect(quiet.entries[0].status == "inactive")
        // A status is kept as a code, so a bespoke system's "Active" is active.
        let bespoke = RecordMerger.merge([
            entry(.allergy, Self.penicillin, provider: "gp", id: "a1", status: "inactive"),
            entry(.allergy, Self.penicillin, provider: "care-home", id: "a2", status: "Active"),
        ])
        #expect(bespoke.entries.map(\.status) == ["active"])
    }

    @Test func aSharedIdentifierDoesNotJoinAWithdrawnStatementToALiveOne() {
        let order = EntryIdentifier(system: "https://trust.example/order", value: "ORD-7")
        let result = RecordMerger.merge([
            entry(.testResult, Self.sodium, provider: "mh-trust", id: "o1", identifiers: [order], status: "entered-in-error"),
            entry(.testResult, Self.sodium, provider: "gp", id: "o2", identifiers: [order], status: "final"),
            entry(.testResult, Self.sodium, provider: "lab", id: "o3", identifiers: [order], status: "entered-in-error"),
        ])
        #expect(result.entries.count == 2)
        #expect(result.entries.first { $0.status == "final" }?.sources.map(\.provider) == ["gp"])
        // Two withdrawn copies of one record are still one.
        #expect(result.entries.first { $0.status == "entered-in-error" }?.sources.count == 2)
    }

    @Test func sameMedicineAndDoseFromTwoProvidersIsOneEntryWithBothSources() {
        let result = RecordMerger.merge([
            entry(.medication, Self.amoxicillin, provider: "mh-trust", id: "mr-1", date: "2024-05-01", dose: "One capsule three times a day"),
            entry(.medication, Self.amoxicillin, provider: "gp", id: "ms-9", date: "2024-05-03", dose: "one capsule three  times a day."),
        ])
        #expect(result.entries.count == 1)
        #expect(result.duplicatesCollapsed == 1)
        #expect(result.entries[0].sources.map(\.provider) == ["gp", "mh-trust"])
        #expect(result.entries[0].conflict == nil)
    }

    @Test func sameMedicineAtAnotherDoseStaysApartAndIsFlagged() throws {
        let result = RecordMerger.merge([
            entry(.medication, Self.amoxicillin, provider: "mh-trust", id: "mr-1", dose: "One capsule three times a day"),
            entry(.medication, Self.amoxicillin, provider: "gp", id: "ms-9", dose: "Two capsules three times a day"),
        ])
        #expect(result.entries.count == 2)
        #expect(result.conflicts == 2)
        let first = try #require(result.entries.first { $0.sources[0].provider == "mh-trust" })
        let second = try #require(result.entries.first { $0.sources[0].provider == "gp" })
        #expect(first.conflict == Conflict(field: "dose", with: [second.id]))
        #expect(second.conflict == Conflict(field: "dose", with: [first.id]))
    }

    /// Paracetamol given by an ambulance crew this afternoon and on an incident months ago are two doses: merged,
    /// the view showed one of them, with either date, and a clinician could dose again within the hour. A dose
    /// given never joins a medicine on a list, nor is it a dose conflict with one.
    @Test func dosesGivenAtDifferentTimesStayApartAndNeverJoinAMedicineTaken() {
        let paracetamol = Coding(system: Coding.System.dmd, code: "322236009", display: "Paracetamol 500mg tablets")
        func given(_ provider: String, _ id: String, _ date: String, dose: String = "1 g by mouth") -> CareEntry {
            var entry = entry(.medication, paracetamol, provider: provider, id: id, date: date, dose: dose)
            entry.administered = true
            return entry
        }
        let result = RecordMerger.merge([
            given("ambulance", "d8", "2025-12-07T14:19:00Z"),
            given("ambulance", "d16", "2026-12-08T01:05:00Z"),
            given("ed", "x1", "2026-12-08T01:05:00+00:00"),
            entry(.medication, paracetamol, provider: "gp", id: "g1", date: "2024-01-01", dose: "1 g by mouth"),
        ])
        #expect(result.entries.map { $0.sources.map(\.id) } == [["d16", "x1"], ["d8"], ["g1"]])
        #expect(result.entries.map(\.administered) == [true, true, false])
        #expect(result.conflicts == 0)

        // Given at the same time at another dose: a conflict, as for two results of one test at one time.
        let disagreeing = RecordMerger.merge([
            given("ambulance", "d1", "2026-12-08T01:05:00Z"),
            given("ed", "x1", "2026-12-08T01:05:00Z", dose: "500 mg by mouth"),
        ])
        #expect(disagreeing.conflicts == 2)
        #expect(disagreeing.entries.allSatisfy { $0.conflict?.field == "dose" })
    }

    /// The merged line is the most detailed one a source wrote, whichever provider answered first: a care home's
    /// short line must not hide the criticality the GP recorded.
    @Test func aMergedFactReadsAsItsMostDetailedSourceWroteIt() {
        let lines = [
            ("care-home", "Penicillin — Urticaria"),
            ("gp", "Penicillin allergy — reaction: Urticaria; criticality: high"),
            ("mh-trust", "Penicillin allergy — reaction: Urticaria"),
        ]
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let result = RecordMerger.merge(order.map { index in
                entry(.allergy, Self.penicillin, provider: lines[index].0, id: "a\(index)", summary: lines[index].1)
            })
            #expect(result.entries.map(\.summary) == ["Penicillin allergy — reaction: Urticaria; criticality: high"])
            // The other lines stay readable, by source.
            #expect(result.entries.first?.sourceSummaries == [
                SourceReference(provider: "care-home", id: "a0"): "Penicillin — Urticaria",
                SourceReference(provider: "mh-trust", id: "a2"): "Penicillin allergy — reaction: Urticaria",
            ])
        }
    }

    /// The GP stopped ramipril last week; the spring's discharge summary lists it active. Merged, "active" won and
    /// the view said the patient was on it. Kept apart, each names the other as a status conflict. A care home's
    /// line without a status counts as current.
    @Test func aMedicineOneSourceEndedAndAnotherHoldsCurrentIsShownBothWaysAndFlagged() throws {
        let ramipril = Coding(system: Coding.System.dmd, code: "318906001", display: "Ramipril 10mg capsules")
        let dose = "One capsule once a day"
        for status in ["stopped", "completed", "Discontinued", "Not taken"] {
            let result = RecordMerger.merge([
                entry(.medication, ramipril, provider: "gp", id: "g1", date: "2026-12-01", dose: dose, status: status),
                entry(.medication, ramipril, provider: "mh-trust", id: "m1", date: "2026-04-02", dose: dose, status: "active"),
                entry(.medication, ramipril, provider: "care-home", id: "c1", dose: dose),
            ])
            #expect(result.entries.count == 2, "\(status)")
            let ended = try #require(result.entries.first { $0.status == CareEntry.statusCode(status) })
            let current = try #require(result.entries.first { $0.status == "active" })
            #expect(ended.sources.map(\.id) == ["g1"])
            #expect(current.sources.map(\.id) == ["c1", "m1"])
            #expect(ended.conflict == Conflict(field: "status", with: [current.id]))
            #expect(current.conflict == Conflict(field: "status", with: [ended.id]))
        }
        // Current on both lists (on hold is still the patient's medicine): one fact, `active` winning.
        let held = RecordMerger.merge([
            entry(.medication, ramipril, provider: "gp", id: "g1", dose: dose, status: "on-hold"),
            entry(.medication, ramipril, provider: "mh-trust", id: "m1", dose: dose, status: "active"),
        ])
        #expect(held.entries.map(\.status) == ["active"] && held.conflicts == 0)
        // Another dose as well: the dose is what the flag names.
        let both = RecordMerger.merge([
            entry(.medication, ramipril, provider: "gp", id: "g1", dose: "Two capsules", status: "stopped"),
            entry(.medication, ramipril, provider: "mh-trust", id: "m1", dose: dose, status: "active"),
        ])
        #expect(both.entries.map { $0.conflict?.field } == ["dose", "dose"])
    }

    @Test func allergiesMatchOnTheSubstanceAlone() {
        let result = RecordMerger.merge([
            entry(.allergy, Self.penicillin, provider: "gp", id: "a1", date: "2019-01-01"),
            entry(.allergy, Self.penicillin, provider: "mh-trust", id: "a7", date: "2023-06-30"),
            entry(.allergy, Self.penicillin, provider: "care-home", id: "CH-3"),
        ])
        #expect(result.entries.count == 1)
        #expect(result.entries[0].sources.count == 3)
    }

    /// The code of a care plan, a document, an appointment or an encounter names a kind, not the fact: a trust's
    /// care programme plan and its crisis plan, written the same day under "Care plan", are two plans — the crisis
    /// plan is what A&E needs at night, and must not be folded into the other.
    @Test func plansOfOneKindOnOneDayStayApartUnlessTheirTitlesAgree() {
        let carePlan = Coding(system: Coding.System.snomedCT, code: "734163000", display: "Care plan")
        let result = RecordMerger.merge([
            entry(.carePlan, carePlan, provider: "mh-trust", id: "cp35", date: "2026-10-05",
                summary: "Care Programme Approach care plan"),
            entry(.carePlan, carePlan, provider: "mh-trust", id: "cp36", date: "2026-10-05",
                summary: "Crisis and contingency plan"),
            entry(.carePlan, carePlan, provider: "gp", id: "g9", date: "2026-10-05",
                summary: "crisis and  contingency plan."),
        ])
        #expect(result.entries.count == 2)
        let crisis = result.entries.first { $0.summary == "Crisis and contingency plan" }
        #expect(crisis?.sources.map(\.id) == ["g9", "cp36"])
        #expect(result.entries.contains { $0.summary == "Care Programme Approach care plan" && $0.sources.count == 1 })
    }

    /// Two GP appointments on one day (bloods in the morning, a review in the afternoon) are typed alike; the
    /// time tells them apart. The same appointment at the same time from two providers is one.
    @Test func appointmentsOfOneKindOnOneDayMatchOnlyAtTheSameTime() {
        let practice = Coding(system: Coding.System.snomedCT, code: "788007007", display: "General practice service")
        let result = RecordMerger.merge([
            entry(.appointment, practice, provider: "gp", id: "a1", date: "2026-11-07T09:10:00Z", summary: "GP consultation"),
            entry(.appointment, practice, provider: "gp", id: "a2", date: "2026-11-07T14:10:00Z", summary: "GP consultation"),
            entry(.appointment, practice, provider: "mh-trust", id: "m1", date: "2026-11-07T14:10:00+00:00",
                summary: "GP Consultation"),
        ])
        #expect(result.entries.count == 2)
        #expect(result.entries.map { $0.sources.map(\.id) } == [["a2", "m1"], ["a1"]])
    }

    /// Each system titles a visit its own way (the trust's FHIR encounter and the same encounter in its CDA
    /// letter): at the same time they are one visit whatever the titles. Given only a day, the title must agree.
    @Test func visitsMatchAtTheSameTimeWhateverTheirTitlesAndOnADayOnlyUnderOneTitle() {
        let admission = Coding(system: Coding.System.snomedCT, code: "32485007", display: "Hospital admission")
        let timed = RecordMerger.merge([
            entry(.encounter, admission, provider: "mh-trust", id: "enc5", date: "2026-09-12T16:40:00Z",
                summary: "Hospital admission (inpatient encounter) — reason: Schizophrenia"),
            entry(.encounter, admission, provider: "mh-trust-documents", id: "doc12/enc5",
                date: "2026-09-12T16:40:00+00:00", summary: "Hospital admission — Discharge summary"),
        ])
        #expect(timed.entries.map { $0.sources.count } == [2])
        let practice = Coding(system: Coding.System.snomedCT, code: "788007007", display: "General practice service")
        let daysOnly = RecordMerger.merge([
            entry(.appointment, practice, provider: "gp", id: "a1", date: "2026-11-07", summary: "Blood test"),
            entry(.appointment, practice, provider: "gp", id: "a2", date: "2026-11-07", summary: "GP consultation"),
            entry(.appointment, practice, provider: "care-home", id: "c1", date: "2026-11-07", summary: "GP consultation"),
        ])
        #expect(daysOnly.entries.map { $0.sources.map(\.id) }.sorted { $0.count > $1.count } == [["c1", "a2"], ["a1"]])
    }

    @Test func resultsMatchOnValueUnitAndTimeNumerically() {
        let result = RecordMerger.merge([
            entry(.testResult, Self.sodium, provider: "mh-trust", id: "o1", date: "2024-05-01T09:30:00Z", value: Quantity(value: "139.0", unit: "mmol/L")),
            entry(.testResult, Self.sodium, provider: "gp", id: "o2", date: "2024-05-01T10:30:00+01:00", value: Quantity(value: "139", unit: "mmol/L")),
            entry(.testResult, Self.sodium, provider: "gp", id: "o3", date: "2024-06-01T09:30:00Z", value: Quantity(value: "139", unit: "mmol/L")),
        ])
        #expect(result.entries.count == 2)
        #expect(result.entries.first { $0.sources.count == 2 }?.sources.map(\.id) == ["o2", "o1"])
    }

    @Test func sameTestAtTheSameTimeWithAnotherValueIsAConflict() {
        let result = RecordMerger.merge([
            entry(.testResult, Self.sodium, provider: "mh-trust", id: "o1", date: "2024-05-01T09:30:00Z", value: Quantity(value: "139", unit: "mmol/L")),
            entry(.testResult, Self.sodium, provider: "gp", id: "o2", date: "2024-05-01T09:30:00Z", value: Quantity(value: "145", unit: "mmol/L")),
        ])
        #expect(result.entries.count == 2)
        #expect(result.entries.allSatisfy { $0.conflict?.field == "value" })
    }

    @Test func aSharedIdentifierMergesEvenWhenTheRestDiffers() {
        let accession = EntryIdentifier(system: "https://fhir.caregate.example/Id/lab-accession", value: "LAB-1")
        let result = RecordMerger.merge([
            entry(.testResult, Self.sodium, provider: "mh-trust", id: "o1", date: "2024-05-01T09:30:00Z", identifiers: [accession]),
            entry(.testResult, Coding(display: "Na"), provider: "gp", id: "o2", date: "2024-05-01", identifiers: [accession]),
        ])
        #expect(result.entries.count == 1)
        #expect(result.entries[0].sources.count == 2)
        // The more precise date wins.
        #expect(result.entries[0].date?.text == "2024-05-01T09:30:00Z")
    }

    @Test func matchesAreTransitive() {
        let shared = EntryIdentifier(system: "urn:doc", value: "D-1")
        let letter = Coding(system: Coding.System.snomedCT, code: "371531000", display: "Report of clinical encounter")
        let result = RecordMerger.merge([
            entry(.document, letter, provider: "a", id: "1", date: "2024-01-02"),
            entry(.document, nil, provider: "b", id: "2", date: "2024-01-09", identifiers: [shared]),
            entry(.document, letter, provider: "c", id: "3", date: "2024-01-02", identifiers: [shared]),
        ])
        #expect(result.entries.count == 1)
        #expect(result.entries[0].sources.map(\.provider.rawValue) == ["a", "b", "c"])
    }

    @Test func differentCategoriesNeverMerge() {
        let code = Coding(system: Coding.System.snomedCT, code: "38341003")
        let result = RecordMerger.merge([
            entry(.condition, code, provider: "gp", id: "c1", date: "2020-01-01"),
            entry(.observation, code, provider: "gp", id: "c2", date: "2020-01-01"),
        ])
        #expect(result.entries.count == 2)
    }

    @Test func entriesComeNewestFirstWithUndatedLast() {
        let result = RecordMerger.merge([
            entry(.encounter, Coding(code: "a"), provider: "p", id: "1", date: "2021-01-01"),
            entry(.encounter, Coding(code: "b"), provider: "p", id: "2"),
            entry(.encounter, Coding(code: "c"), provider: "p", id: "3", date: "2024-01-01T10:00:00Z"),
            entry(.encounter, Coding(code: "d"), provider: "p", id: "4", date: "2023"),
        ])
        #expect(result.entries.map { $0.sources[0].id } == ["3", "4", "1", "2"])
    }

    @Test func atTheSameTimeEntriesGoByCategoryThenID() throws {
        let input = [
            entry(.condition, Coding(code: "a"), provider: "p", id: "1", date: "2024-05-01"),
            entry(.medication, Coding(code: "b"), provider: "p", id: "2", date: "2024-05-01", dose: "x"),
            entry(.appointment, Coding(code: "c"), provider: "p", id: "3", date: "2024-05-01"),
            entry(.condition, Coding(code: "d"), provider: "p", id: "4", date: "2024-05-01"),
            entry(.allergy, Coding(code: "e"), provider: "p", id: "5"),
            entry(.appointment, Coding(code: "f"), provider: "p", id: "6"),
        ]
        let result = RecordMerger.merge(input)
        // Categories in their declared order (appointment, …, medication, …, condition); undated last, likewise.
        #expect(result.entries.map(\.category) == [.appointment, .medication, .condition, .condition, .appointment, .allergy])
        let conditions = result.entries.filter { $0.category == .condition && $0.date != nil }.map(\.id)
        #expect(conditions == conditions.sorted())
        #expect(result.entries.map { $0.sources[0].id }.sorted() == ["1", "2", "3", "4", "5", "6"])
    }

    @Test func aFactFromSeveralProvidersTakesTheMostPreciseDateAndTheFirstOfEachField() throws {
        let shared = [EntryIdentifier(system: "https://example.org/order", value: "O1")]
        let result = RecordMerger.merge([
            entry(.testResult, Self.sodium, provider: "gp", id: "g1", date: "2024-05-01", identifiers: shared),
            entry(.testResult, nil, provider: "lab", id: "l1", date: "2024-05-01T09:30:00Z",
                value: Quantity(value: "140", unit: "mmol/L"), identifiers: shared),
            entry(.testResult, nil, provider: "acute", id: "a1", date: "2024-05-01T10:00:00Z",
                value: Quantity(value: "141", unit: "mmol/L"), identifiers: shared),
        ])
        let merged = try #require(result.entries.first)
        #expect(result.entries.count == 1 && result.duplicatesCollapsed == 2)
        #expect(merged.code == Self.sodium)
        // The first of the most precise dates, and the first value given.
        #expect(merged.date == ClinicalDate("2024-05-01T09:30:00Z"))
        #expect(merged.value == Quantity(value: "140", unit: "mmol/L"))
        #expect(merged.sources.map(\.id) == ["a1", "g1", "l1"])
        #expect(merged.id == RecordMerger.merge([entry(.testResult, nil, provider: "acute", id: "a1")]).entries[0].id)
    }

    /// Portals may keep ids between requests: the hash must not change from one release to the next. Expected
    /// values computed apart (64-bit FNV-1a of provider, NUL, id).
    @Test func idsAreTheFNVHashOfTheFirstSource() {
        #expect(RecordMerger.merge([entry(.allergy, Self.penicillin, provider: "gp", id: "a1")]).entries[0].id
            == "e5323223980e51f9c")
        #expect(RecordMerger.merge([entry(.observation, nil, provider: "ambulance", id: "amb-obs-0000-2", summary: "HR")])
            .entries[0].id == "e76669c890f2667ce")
    }

    @Test func idsAreStableAndDistinct() {
        let input = [
            entry(.allergy, Self.penicillin, provider: "gp", id: "a1"),
            entry(.medication, Self.amoxicillin, provider: "gp", id: "m1", dose: "x"),
        ]
        let first = RecordMerger.merge(input).entries.map(\.id)
        let second = RecordMerger.merge(input.reversed()).entries.map(\.id)
        #expect(Set(first) == Set(second))
        #expect(Set(first).count == 2)
        #expect(first.allSatisfy { $0.hasPrefix("e") && $0.count == 17 })
    }

    @Test func largeInputsMergeWithoutPairwiseBlowUp() {
        // 20,000 entries, a third of them duplicates of another provider's: must finish and collapse exactly.
        var entries: [CareEntry] = []
        for index in 0..<15_000 {
            let code = Coding(system: Coding.System.snomedCT, code: "\(100_000 + index)")
            entries.append(entry(.condition, code, provider: "gp", id: "g\(index)", date: "2020-01-01"))
            if index % 3 == 0 {
                entries.append(entry(.condition, code, provider: "mh-trust", id: "t\(index)", date: "2020-01-01"))
            }
        }
        let result = RecordMerger.merge(entries)
        #expect(result.entries.count == 15_000)
        #expect(result.duplicatesCollapsed == 5_000)
    }
}
