import CareRecords
import Testing

@Suite struct EntryCategoryTests {
    @Test func categoriesSortInDeclarationOrder() {
        let declared = EntryCategory.allCases
        #expect(Array(declared.reversed()).sorted() == declared)
        #expect(EntryCategory.appointment < .medication && !(EntryCategory.medication < .appointment))
        #expect(!(EntryCategory.condition < .condition))
    }
}
