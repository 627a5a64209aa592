import CareRecords

/// Works out which facts several providers hold, from the records as generated rather than from what the
/// generator meant to share, so `SyntheticPatient.sharedFacts` can never drift from the bundles actually served.
///
/// The keys follow the merge rules in DESIGN.md: a shared identifier first (lab accession, document id), otherwise
/// the coded concept plus what matters clinically for its category (dose for medicines, date for encounters…).
enum SharedFactFinder {
    private struct Item {
        var provider: ProviderID
        var resourceID: String
        var category: EntryCategory
        var code: Coding
        /// Which fact this is: copies of the same fact share it.
        var group: String
        /// What must agree for the copies to be identical.
        var match: String
        var value: String
        var identifier: EntryIdentifier?
        var date: String?
    }

    static func find(in records: [ProviderID: [SimulatedResource]]) -> [SharedFact] {
        let order = SimulatedProviderID.all + records.keys.filter { !SimulatedProviderID.all.contains($0) }.sorted()
        var groups: [String: [Item]] = [:]
        var groupOrder: [String] = []
        for provider in order {
            for resource in records[provider] ?? [] {
                for item in items(for: resource, at: provider) {
                    if groups[item.group] == nil { groupOrder.append(item.group) }
                    if groups[item.group]?.contains(where: { $0.provider == provider }) == true { continue }
                    groups[item.group, default: []].append(item)
                }
            }
        }

        var facts: [SharedFact] = []
        for key in groupOrder {
            let items = groups[key] ?? []
            guard items.count >= 2 else { continue }
            let first = items[0]
            // In order of first appearance, not the dictionary's (which differs run to run), so the same seed
            // always lists the same facts in the same order.
            var byMatch: [String: [Item]] = [:]
            var matchOrder: [String] = []
            for item in items {
                if byMatch[item.match] == nil { matchOrder.append(item.match) }
                byMatch[item.match, default: []].append(item)
            }
            if byMatch.count > 1 {
                let field = first.category == .medication ? "dose" : "value"
                facts.append(fact(from: items, agreement: .conflicting(field: field)))
                for match in matchOrder {
                    guard let agreeing = byMatch[match], agreeing.count >= 2 else { continue }
                    facts.append(fact(from: agreeing, agreement: .identical))
                }
            } else {
                facts.append(fact(from: items, agreement: .identical))
            }
        }
        // Ties keep the order found (a stable sort by position).
        return facts.enumerated().sorted {
            ($0.element.category, $0.element.code.display ?? "", $0.element.providers.count, $0.offset)
                < ($1.element.category, $1.element.code.display ?? "", $1.element.providers.count, $1.offset)
        }.map(\.element)
    }

    private static func fact(from items: [Item], agreement: SharedFact.Agreement) -> SharedFact {
        let first = items[0]
        return SharedFact(
            category: first.category, code: first.code, providers: items.map(\.provider), agreement: agreement,
            identifier: first.identifier, date: first.date,
            values: Dictionary(items.map { ($0.provider, $0.value) }, uniquingKeysWith: { first, _ in first }),
            resourceIDs: Dictionary(items.map { ($0.provider, $0.resourceID) }, uniquingKeysWith: { first, _ in first }))
    }

    private static func conceptKey(_ coding: Coding) -> String {
        "\(coding.system ?? "")|\(coding.code ?? "")"
    }

    private static func day(_ dateTime: String) -> String { String(dateTime.prefix(10)) }

    /// The resource's own item, then (for a structured document) those of the coded entries it carries.
    private static func items(for resource: SimulatedResource, at provider: ProviderID) -> [Item] {
        guard case .document(let document) = resource else { return [item(for: resource, at: provider)] }
        let entries: [SimulatedResource] =
            document.medications.map { .medicationRequest($0) } + document.allergies.map { .allergy($0) }
            + document.problems.map { .condition($0) }
        return [item(for: resource, at: provider)] + entries.map { item(for: $0, at: provider) }
    }

    private static func item(for resource: SimulatedResource, at provider: ProviderID) -> Item {
        let id = resource.id
        let category = resource.category
        switch resource {
        case .medicationStatement(let medicine), .medicationRequest(let medicine):
            return Item(
                provider: provider, resourceID: id, category: category, code: medicine.medicine,
                group: "medication|" + conceptKey(medicine.medicine), match: medicine.dosageText,
                value: medicine.dosageText)
        case .allergy(let allergy):
            return Item(
                provider: provider, resourceID: id, category: category, code: allergy.substance,
                group: "allergy|" + conceptKey(allergy.substance), match: "", value: allergy.substance.display ?? "")
        case .labResult(let result):
            let value = "\(result.value) \(result.unit)"
            return Item(
                provider: provider, resourceID: id, category: category, code: result.test,
                group: "lab|\(result.accession.system)|\(result.accession.value)",
                match: "\(conceptKey(result.test))|\(value)|\(result.effectiveDateTime)", value: value,
                identifier: result.accession, date: result.effectiveDateTime)
        case .labReport(let report):
            return Item(
                provider: provider, resourceID: id, category: category, code: report.code,
                group: "report|\(report.identifier.system)|\(report.identifier.value)", match: "",
                value: report.conclusion, identifier: report.identifier, date: report.effectiveDateTime)
        case .observation(let observation):
            let value: String
            switch observation.value {
            case .quantity(let number, let unit): value = "\(number) \(unit)"
            case .integer(let number): value = String(number)
            case .text(let text): value = text
            }
            return Item(
                provider: provider, resourceID: id, category: category, code: observation.code,
                group: "observation|\(conceptKey(observation.code))|\(observation.effectiveDateTime)", match: value,
                value: value, date: observation.effectiveDateTime)
        case .encounter(let encounter):
            return Item(
                provider: provider, resourceID: id, category: category, code: encounter.type,
                group: "encounter|\(conceptKey(encounter.type))|\(day(encounter.start))", match: "",
                value: encounter.classCode, date: day(encounter.start))
        case .appointment(let appointment):
            return Item(
                provider: provider, resourceID: id, category: category, code: appointment.serviceType,
                group: "appointment|\(conceptKey(appointment.serviceType))|\(appointment.start)", match: "",
                value: appointment.status, date: appointment.start)
        case .document(let document):
            let group =
                document.masterIdentifier.map { "document|\($0.system)|\($0.value)" }
                ?? "document|\(conceptKey(document.type))|\(day(document.date))"
            return Item(
                provider: provider, resourceID: id, category: category, code: document.type, group: group,
                match: "", value: document.title, identifier: document.masterIdentifier, date: day(document.date))
        case .carePlan(let plan):
            return Item(
                provider: provider, resourceID: id, category: category, code: plan.category,
                group: "care-plan|\(conceptKey(plan.category))|\(plan.title)|\(plan.created)", match: "",
                value: plan.title, date: plan.created)
        case .condition(let condition):
            return Item(
                provider: provider, resourceID: id, category: category, code: condition.code,
                group: "condition|" + conceptKey(condition.code), match: "", value: condition.clinicalStatus,
                date: condition.onsetDate)
        case .immunisation(let immunisation):
            return Item(
                provider: provider, resourceID: id, category: category, code: immunisation.vaccine,
                group: "immunisation|\(conceptKey(immunisation.vaccine))|\(day(immunisation.date))", match: "",
                value: immunisation.lotNumber, date: day(immunisation.date))
        }
    }
}
