import CareRecords
import XMLSupport

/// Patient → `DecodedRecord.patient`.
extension FHIRResource {
    static let nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"

    /// The provider's demographics, or nil when the resource holds none of them.
    ///
    /// An NHS number that fails its check digit is dropped, not fatal: the record was asked for by a valid
    /// number, and the provider's clinical entries are still worth showing.
    func demographics() -> PatientDemographics? {
        let nhsNumber = element.children("identifier")
            .first { $0.fhirValue("system") == Self.nhsNumberSystem }?
            .fhirValue("value")
            .flatMap { try? NHSNumber($0) }
        let names = element.children("name")
        let name = names.first { $0.fhirValue("use") == "official" } ?? names.first
        let given = name?.children("given").compactMap(\.fhirValue).joined(separator: " ").trimmedNonEmpty
        let demographics = PatientDemographics(
            nhsNumber: nhsNumber, givenName: given, familyName: name?.fhirValue("family"),
            birthDate: firstDate(element.fhirValue("birthDate")), gender: element.fhirValue("gender"))
        return demographics == PatientDemographics() ? nil : demographics
    }
}
