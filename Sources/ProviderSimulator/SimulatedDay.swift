/// A calendar day as a count of days since 1970-01-01 (proleptic Gregorian), so the population can do date
/// arithmetic without Foundation's calendars and time zones, and without ever reading the clock.
struct SimulatedDay: Sendable, Hashable, Comparable {
    var daysSinceEpoch: Int

    init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    init(year: Int, month: Int, day: Int) {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        daysSinceEpoch = era * 146_097 + dayOfEra - 719_468
    }

    /// The day every synthetic history is written relative to: "today" for the population, fixed so that the same
    /// seed gives the same bytes whenever it runs. Appointments after it are in the future.
    static let reference = SimulatedDay(year: 2026, month: 11, day: 20)

    var components: (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    func adding(days: Int) -> SimulatedDay {
        SimulatedDay(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// `YYYY-MM-DD`.
    var text: String {
        let (year, month, day) = components
        return Self.pad(year, 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2)
    }

    /// An instant on this day in UTC, as FHIR `instant`/`dateTime` text: `2026-03-05T14:30:00Z`.
    func at(hour: Int, minute: Int) -> String {
        text + "T" + Self.pad(hour, 2) + ":" + Self.pad(minute, 2) + ":00Z"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        var text = String(value)
        while text.count < width { text = "0" + text }
        return text
    }

    static func < (lhs: SimulatedDay, rhs: SimulatedDay) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }
}
