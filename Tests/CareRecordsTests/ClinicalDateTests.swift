import CareRecords
import Testing

@Suite struct ClinicalDateTests {
    @Test func readsEveryPrecisionFHIRAllows() throws {
        #expect(ClinicalDate("2024")?.precision == .year)
        #expect(ClinicalDate("2024-03")?.precision == .month)
        #expect(ClinicalDate("2024-03-05")?.precision == .day)
        #expect(ClinicalDate("2024-03-05T14:30:00Z")?.precision == .time)
        #expect(ClinicalDate("2024-03-05T14:30:00.123+01:00")?.precision == .time)
        #expect(ClinicalDate("2024-03-05T14:30")?.precision == .time)
    }

    @Test func keepsTheProviderTextAndDay() throws {
        let date = try #require(ClinicalDate("2024-03-05T14:30:00+01:00"))
        #expect(date.text == "2024-03-05T14:30:00+01:00")
        #expect(date.day == "2024-03-05")
        #expect(ClinicalDate("2024-03")?.day == nil)
    }

    @Test func sortKeyIsSecondsSince1970InUTC() throws {
        #expect(ClinicalDate("1970-01-01")?.sortKey == 0)
        #expect(ClinicalDate("2000-03-01T00:00:00Z")?.sortKey == 951_868_800)
        // The same instant written in two zones sorts equal.
        #expect(ClinicalDate("2024-03-05T14:30:00+01:00")?.sortKey == ClinicalDate("2024-03-05T13:30:00Z")?.sortKey)
    }

    @Test(arguments: ["", "24", "2024-13", "2024-02-30", "2023-02-29", "2024-03-05T25:00", "2024-03-05 14:30", "soon"])
    func refusesWhatIsNotADate(_ text: String) {
        #expect(ClinicalDate(text) == nil)
    }

    @Test func acceptsALeapDay() {
        #expect(ClinicalDate("2024-02-29") != nil)
    }

    @Test func ordersByInstant() throws {
        let dates = ["2024-03-05", "2023-12-31T23:59:59Z", "2024-03-05T09:00:00Z", "2024"].compactMap(ClinicalDate.init)
        #expect(dates.sorted().map(\.text) == ["2023-12-31T23:59:59Z", "2024", "2024-03-05", "2024-03-05T09:00:00Z"])
    }
}
