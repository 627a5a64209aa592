import CareRecords

extension FHIRExporter {
    /// The patient, id the NHS number, identified by it, with whatever demographics a provider supplied.
    /// A birth date with a time keeps its day (`birthDate` is a date); a gender outside FHIR's value set is left
    /// out rather than guessed. `reportedBy` names the providers whose demographics were used (provenance as for
    /// every other resource, each provider's id for the patient being the NHS number).
    public func patient(
        _ nhsNumber: NHSNumber, demographics: PatientDemographics?, reportedBy providers: [ProviderID] = []
    ) -> FHIRResource {
        FHIRResource(.patient, id: nhsNumber.digits) { patient in
            provenance(
                sources: providers.map { SourceReference(provider: $0, id: nhsNumber.digits) }, conflict: nil,
                into: &patient)
            patient.repeating("identifier", nhsNumberIdentifier(nhsNumber))
            if let demographics {
                patient.repeating("name") { name in
                    name.string("family", demographics.familyName)
                    name.strings("given", demographics.givenName.map { [$0] } ?? [])
                }
                patient.code("gender", demographics.gender.flatMap(Self.administrativeGender))
                patient.lexical("birthDate", demographics.birthDate.flatMap(FHIRPrimitive.date))
            }
        }
    }

    /// FHIR's administrative-gender, from the spellings providers use.
    static func administrativeGender(_ text: String) -> String? {
        switch CareEntry.statusCode(text) {
        case "male", "m", "1": "male"
        case "female", "f", "2": "female"
        case "other", "o", "9", "indeterminate": "other"
        case "unknown", "u", "0", "not-known", "not-specified": "unknown"
        default: nil
        }
    }
}
