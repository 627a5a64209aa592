/// Who a provider says the patient is. Patient data: never log it above debug level.
public struct PatientDemographics: Hashable, Sendable, Codable {
    public var nhsNumber: NHSNumber?
    public var givenName: String?
    public var familyName: String?
    public var birthDate: ClinicalDate?
    public var gender: String?

    public init(
        nhsNumber: NHSNumber? = nil, givenName: String? = nil, familyName: String? = nil,
        birthDate: ClinicalDate? = nil, gender: String? = nil
    ) {
        self.nhsNumber = nhsNumber
        self.givenName = givenName
        self.familyName = familyName
        self.birthDate = birthDate
        self.gender = gender
    }
}

/// What one provider's response decodes to.
public struct DecodedRecord: Sendable, Hashable {
    public var entries: [CareEntry]
    /// The provider's demographics for the patient, when its response carried them.
    public var patient: PatientDemographics?
    /// Parts of the response that were recognised but could not be read (and so were left out), for the manifest.
    public var unreadable: Int
    /// The URL of the next page of results, when the response is one page of several (a FHIR searchset Bundle's
    /// `link` with relation `next`): the record is not complete until it has been fetched.
    public var nextPage: String?
    /// From another CareGate gateway (federation): the providers behind it that did not answer it, so the view
    /// can name them rather than take the gateway's answer as whole.
    public var relayedOutcomes: [RelayedOutcome]

    public init(
        entries: [CareEntry] = [], patient: PatientDemographics? = nil, unreadable: Int = 0, nextPage: String? = nil,
        relayedOutcomes: [RelayedOutcome] = []
    ) {
        self.entries = entries
        self.patient = patient
        self.unreadable = unreadable
        self.nextPage = nextPage
        self.relayedOutcomes = relayedOutcomes
    }
}

/// A provider behind another CareGate gateway that did not answer that gateway, as its answer reported it.
public struct RelayedOutcome: Sendable, Hashable {
    /// Its id at that gateway (`gp`).
    public var provider: ProviderID
    public var kind: ProviderKind?
    /// `timeout`, `error` or `circuit-open`, as that gateway's manifest spells it.
    public var status: String
    /// That gateway's short reason, if it gave one.
    public var detail: String?

    public init(provider: ProviderID, kind: ProviderKind?, status: String, detail: String?) {
        self.provider = provider
        self.kind = kind
        self.status = status
        self.detail = detail
    }
}
