import CareRecords
import Testing

@Suite struct NHSNumberTests {
    @Test(arguments: ["9434765919", "943 476 5919", "943-476-5919", " 9434765919 "])
    func acceptsValidNumbersInTheFormsPeopleType(_ text: String) throws {
        let number = try NHSNumber(text)
        #expect(number.digits == "9434765919")
        #expect(number.description == "9434765919")
    }

    @Test func rejectsAWrongCheckDigit() {
        #expect(throws: NHSNumberError.checkDigitMismatch) { try NHSNumber("9434765918") }
    }

    @Test func rejectsNumbersWhoseCheckDigitWouldBeTen() {
        // Find nine digits whose modulus-11 remainder leaves 10: no check digit can complete them.
        var nine: [UInt8] = [9, 9, 9, 0, 0, 0, 0, 0, 0]
        while NHSNumber.checkDigit(nine) != nil { nine[8] += 1 }
        let text = nine.map(String.init).joined() + "0"
        #expect(throws: NHSNumberError.noValidCheckDigit) { try NHSNumber(text) }
    }

    @Test(arguments: [("123456789", 9), ("12345678901", 11), ("", 0)])
    func rejectsTheWrongLength(_ text: String, _ count: Int) {
        #expect(throws: NHSNumberError.wrongLength(count)) { try NHSNumber(text) }
    }

    @Test(arguments: ["94347659I9", "9434765919x", "943.476.5919"])
    func rejectsOtherCharacters(_ text: String) {
        #expect(throws: NHSNumberError.invalidCharacter) { try NHSNumber(text) }
    }

    @Test func errorDescriptionsNeverRepeatTheInput() {
        for text in ["9434765918", "94347659", "9434x65919"] {
            do {
                _ = try NHSNumber(text)
                Issue.record("\(text) should be refused")
            } catch {
                #expect(!error.description.contains(text))
            }
        }
    }

    @Test func checkDigitFollowsModulusEleven() {
        // 943476591: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 % 11 = 2; 11 - 2 = 9.
        #expect(NHSNumber.checkDigit([9, 4, 3, 4, 7, 6, 5, 9, 1]) == 9)
        // A remainder of 0 gives 11, which becomes 0.
        #expect(NHSNumber.checkDigit([0, 0, 0, 0, 0, 0, 0, 0, 0]) == 0)
    }

    @Test func syntheticRangeIsRecognised() throws {
        #expect(try NHSNumber("9990000018").isSyntheticTestNumber)
        #expect(try !NHSNumber("4010232137").isSyntheticTestNumber)
    }
}
