import CareRecords
import Foundation
import Testing

@testable import Policy

@Suite("Role policy file")
struct RolePolicyTests {
    func error(_ yaml: String) -> RolePolicyError? {
        do {
            _ = try RolePolicy(yaml: yaml, file: "test.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test("the shipped deploy/policy.yaml loads, with the roles and groups it documents")
    func shippedPolicy() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/policy.yaml").path
        let policy = try RolePolicy(contentsOfFile: path)
        #expect(policy.role("R8000")?.categories == Set(EntryCategory.allCases))
        #expect(policy.role("R8008") != nil)
        #expect(policy.role("R8010")?.categories == [.appointment])
        #expect(Set(policy.sensitiveGroups.map(\.name)).isSuperset(of: ["sexual-health", "addiction-services", "safeguarding"]))
        let syphilis = RolePolicy.CodedConcept(system: Coding.System.snomedCT, code: "76272004")
        #expect(policy.withheldConcepts(forRole: "R8008").contains(syphilis))
        #expect(!policy.withheldConcepts(forRole: "R8000").contains(syphilis))
    }

    @Test("a minimal policy parses")
    func minimal() throws {
        let policy = try RolePolicy(
            yaml: """
                version: 1
                roles:
                  R8000: { categories: all }
                  R8008: { title: Admin, categories: [appointment, test-result] }
                sensitive:
                  addiction:
                    roles: [R8000]
                    codes:
                      - { system: "http://snomed.info/sct", code: 66590003 }
                """, file: "test.yaml")
        #expect(policy.role("R8008")?.categories == [.appointment, .testResult])
        #expect(policy.withheldConcepts(forRole: "R8008") == [.init(system: "snomed", code: "66590003")])
    }

    @Test(
        "mistakes are errors naming file, line and key",
        arguments: [
            ("version: 1\nroles:\n  R8000: { categories: [apointment] }\n", 3, "roles.R8000.categories", "unknown category"),
            ("version: 1\nroles:\n  R8000:\n    categories: all\n    colour: blue\n", 5, "roles.R8000.colour", "unknown key"),
            ("version: 1\nroles:\n  doctor: { categories: all }\n", 3, "roles.doctor", "job role code"),
            ("version: 1\nrole:\n  R8000: { categories: all }\n", 2, "role", "unknown key"),
            ("version: 2\nroles:\n  R8000: { categories: all }\n", 1, "version", "version 1"),
            (
                "version: 1\nroles:\n  R8000: { categories: all }\nsensitive:\n  sh:\n    roles: [R8001]\n    codes: [{ system: snomed, code: \"76272004\" }]\n",
                6, "sensitive.sh.roles", "not defined"
            ),
            (
                "version: 1\nroles:\n  R8000: { categories: all }\nsensitive:\n  sh:\n    roles: []\n    codes: [{ system: snomed, code: \"syph\" }]\n",
                7, "sensitive.sh.codes.code", "SNOMED CT"
            ),
            ("version: 1\nroles:\n  R8000: { categories: all\n", 0, nil, "not valid YAML"),
        ] as [(String, Int, String?, String)])
    func errors(yaml: String, line: Int, key: String?, message: String) throws {
        let error = try #require(self.error(yaml))
        #expect(error.file == "test.yaml")
        if line > 0 { #expect(error.line == line, "\(error)") } else { #expect(error.line != nil) }
        #expect(error.key == key, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.description.hasPrefix("test.yaml:"))
    }

    @Test("a missing policy file is an error naming it")
    func missingFile() {
        #expect(throws: RolePolicyError.self) { try RolePolicy(contentsOfFile: "/nonexistent/policy.yaml") }
    }
}
