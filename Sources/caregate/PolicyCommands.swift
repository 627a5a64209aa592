import ArgumentParser
import CareRecords
import Foundation
import GatewayServer
import Logging
import Policy

/// Where the gateway's own state lives: SQLite files in the data directory, or a shared PostgreSQL.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The gateway's data directory (SQLite stores, the demo key).")
    var dataDirectory: String = "data"

    @Option(name: .long, help: "A shared PostgreSQL store instead of SQLite: postgres://user:password@host:port/db")
    var store: String?

    /// One store file per kind of record, so each can be backed up and checked on its own.
    func location(sqliteFile: String) throws -> StoreLocation {
        if let store {
            guard store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") else {
                throw ValidationError("--store must be a postgres:// URL (SQLite is the default, in --data-dir)")
            }
            return .postgres(url: store)
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        return .sqlite(path: (dataDirectory as NSString).appendingPathComponent(sqliteFile))
    }

    static let optOutFile = AccessControl.optOutFile
    static let auditFile = AccessControl.auditFile
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a bearer token signed with this data directory's demo key (which `caregate demo` trusts).")

    @Option(help: "NHS RBAC job role code, e.g. R8000.") var role: String?
    @Option(help: "The NHS number the portal launched for.") var patient: String?
    @Option(help: "The user's organisation (ODS code).") var org: String = "CGDEMO"
    @Option(help: "direct-care or emergency.") var purpose: String = AccessPurpose.directCare.rawValue
    @Flag(help: "Add the operator scope (caregate.admin).") var admin = false
    @Flag(help: "Add the information governance reviewer's scope (caregate.audit): the audit routes only.")
    var audit = false
    @Option(help: "Lifetime, e.g. 90s, 15m, 1h (at most 24h).") var ttl: String = "15m"
    @Option(name: .customLong("data-dir"), help: "The data directory holding the demo key.") var dataDirectory = "data"
    @Flag(
        name: .customLong("print-jwks"),
        help: "Print the demo key's public JWKS instead (for `serve --jwks-file … --issuer caregate-demo`).")
    var printJWKS = false

    func run() async throws {
        if printJWKS {
            do { say(try DemoSigningKey(dataDirectory: dataDirectory).jwksJSON) } catch { throw ValidationError("\(error)") }
            return
        }
        guard let role, let patient else { throw ValidationError("--role and --patient are required") }
        let nhsNumber: NHSNumber
        do { nhsNumber = try NHSNumber(patient) } catch { throw ValidationError("--patient: \(error)") }
        guard let purpose = AccessPurpose(rawValue: purpose) else {
            throw ValidationError("--purpose must be direct-care or emergency")
        }
        let lifetime: Duration
        do { lifetime = try TokenLifetime.parse(ttl) } catch { throw ValidationError("--ttl: \(error)") }
        let key: DemoSigningKey
        do { key = try DemoSigningKey(dataDirectory: dataDirectory) } catch { throw ValidationError("\(error)") }
        let claims = AccessClaims.demo(
            role: role, patient: nhsNumber, org: org, purpose: purpose, admin: admin, auditor: audit, ttl: lifetime)
        say(try await key.sign(claims))
    }
}

struct OptOutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt-out",
        abstract: "The patient opt-out registry: a patient on it gets no shared record.",
        subcommands: [Add.self, Remove.self, List.self, Import.self])

    static func registry(_ options: StoreOptions) async throws -> any OptOutRegistry {
        let location = try options.location(sqliteFile: StoreOptions.optOutFile)
        do {
            return try await makeOptOutRegistry(location, logger: Logger(label: "caregate.opt-out"))
        } catch {
            throw ValidationError("opt-out store \(location): \(error)")
        }
    }

    /// The opt-out registry and the audit trail, for a command that changes opt-outs: each change is audited first
    /// (`AuditedOptOutChanges`, as the admin API's), naming the operating-system user who ran it.
    struct AuditedRegistry {
        let changes: AuditedOptOutChanges
        let user: String

        /// Opens both stores, runs `body` with them, and closes them whatever happens.
        static func using<T>(_ options: StoreOptions, _ body: (AuditedRegistry) async throws -> T) async throws -> T {
            let registry = try await OptOutCommand.registry(options)
            let trail: any AuditTrail
            do {
                trail = try await AuditCommand.trail(options)
            } catch {
                await registry.shutdown()
                throw error
            }
            let stores = AuditedRegistry(
                changes: AuditedOptOutChanges(registry: registry, trail: trail), user: Self.operatingSystemUser)
            do {
                let result = try await body(stores)
                await stores.shutdown()
                return result
            } catch {
                await stores.shutdown()
                throw error
            }
        }

        /// The account running the command (from the password database, not the environment).
        static var operatingSystemUser: String {
            guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return "uid-\(getuid())" }
            return String(cString: name)
        }

        /// The account running the command, as the audit records name it: no organisation, no job role.
        var changer: AuditedOptOutChanges.Operator {
            AuditedOptOutChanges.Operator(
                userID: "cli:\(user)", userName: "\(user) (caregate command line)", organisation: "", role: "",
                route: "caregate opt-out")
        }

        func add(_ patient: NHSNumber, source: String) async throws -> Bool {
            do { return try await changes.add(patient, source: source, by: changer) } catch { throw ValidationError("\(error)") }
        }

        func remove(_ patient: NHSNumber) async throws -> Bool {
            do { return try await changes.remove(patient, by: changer) } catch { throw ValidationError("\(error)") }
        }

        func shutdown() async {
            await changes.registry.shutdown()
            await changes.trail.shutdown()
        }
    }

    static func number(_ text: String) throws -> NHSNumber {
        do { return try NHSNumber(text) } catch { throw ValidationError("'\(text)': \(error)") }
    }

    struct Add: AsyncParsableCommand {
        @Argument(help: "NHS number.") var nhs: String
        @OptionGroup var store: StoreOptions
        func run() async throws {
            let number = try OptOutCommand.number(nhs)
            let added = try await AuditedRegistry.using(store) { try await $0.add(number, source: "cli") }
            say(added ? "opted out" : "already opted out")
        }
    }

    struct Remove: AsyncParsableCommand {
        @Argument(help: "NHS number.") var nhs: String
        @OptionGroup var store: StoreOptions
        func run() async throws {
            let number = try OptOutCommand.number(nhs)
            let removed = try await AuditedRegistry.using(store) { try await $0.remove(number) }
            say(removed ? "opt-out removed" : "was not opted out")
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var store: StoreOptions
        func run() async throws {
            let registry = try await OptOutCommand.registry(store)
            let all = try await registry.list()
            await registry.shutdown()
            let formatter = ISO8601DateFormatter()
            for optOut in all { say("\(optOut.nhsNumber)\t\(formatter.string(from: optOut.recordedAt))\t\(optOut.source)") }
        }
    }

    struct Import: AsyncParsableCommand {
        @Argument(help: "A CSV file: one NHS number per line, or a column named nhs_number.") var file: String
        @OptionGroup var store: StoreOptions
        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
            else { throw ValidationError("\(file): cannot read the file as UTF-8 text") }
            let numbers: [NHSNumber]
            do { numbers = try OptOutCSV.parse(text) } catch { throw ValidationError("\(file): \(error)") }
            let source = "import:\((file as NSString).lastPathComponent)"
            let added = try await AuditedRegistry.using(store) { stores in
                var added = 0
                for number in numbers where try await stores.add(number, source: source) { added += 1 }
                return added
            }
            say("\(numbers.count) read, \(added) newly opted out")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The access audit trail (metadata only).",
        subcommands: [Verify.self, Search.self, Users.self])

    static func trail(_ store: StoreOptions) async throws -> any AuditTrail {
        let location = try store.location(sqliteFile: StoreOptions.auditFile)
        do {
            return try await makeAuditTrail(location, logger: Logger(label: "caregate.audit"))
        } catch {
            throw ValidationError("audit store \(location): \(error)")
        }
    }

    /// Opens the audit trail, runs `body` with it, and closes it whatever happens.
    static func withTrail<T>(_ store: StoreOptions, _ body: (any AuditTrail) async throws -> T) async throws -> T {
        let trail = try await trail(store)
        do {
            let result = try await body(trail)
            await trail.shutdown()
            return result
        } catch {
            await trail.shutdown()
            throw error
        }
    }

    /// One tab-separated line; a tab or line break inside a value (a name, say) becomes a space, so no value can
    /// shift the columns or start a line.
    static func tsv(_ fields: [String]) -> String {
        fields.map { field in
            String(field.map { $0 == "\t" || $0.isNewline ? " " : $0 })
        }
            .joined(separator: "\t")
    }

    static func date(_ text: String?, _ option: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = AuditTime.parse(text) else {
            throw ValidationError("--\(option): expected an ISO 8601 date (2026-12-01) or date-time (2026-12-01T09:00:00Z)")
        }
        return date
    }

    /// `caregate audit search`: who looked at one patient's record, or what one member of staff looked at, as the
    /// admin API's `GET /admin/audit?patient=…|user=…` lists them — from the store itself, so an investigation does
    /// not need the gateway running.
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the records about one patient (--patient) or of one user (--user), oldest first, tab-separated.")
        @Option(help: "An NHS number: who looked at this person's record.") var patient: String?
        @Option(help: "A user id (the token's sub): every record of this member of staff's.") var user: String?
        @Option(help: "The earliest time, an ISO 8601 date or date-time.") var since: String?
        @Option(help: "The end of the period, not included, an ISO 8601 date or date-time.") var until: String?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let search: AuditSearch
            switch (patient, user) {
            case (let patient?, nil): search = .patient(try OptOutCommand.number(patient))
            case (nil, let user?) where !user.isEmpty: search = .user(user)
            default: throw ValidationError("give one of --patient or --user")
            }
            let since = try AuditCommand.date(since, "since")
            let until = try AuditCommand.date(until, "until")
            if let since, let until, since >= until { throw ValidationError("--since must be before --until") }
            say(
                AuditCommand.tsv([
                    "record", "time", "user", "name", "organisation", "role", "purpose", "patient", "decision", "reason", "via",
                ]))
            try await AuditCommand.withTrail(store) { trail in
                try await trail.eachPage(search, since: since, until: until) { page in
                    for stored in page { say(Self.line(stored)) }
                }
            }
        }

        static func line(_ stored: StoredAuditRecord) -> String {
            let record = stored.record
            return AuditCommand.tsv([
                String(stored.sequence), AuditTime.text(record.time), record.userID, record.userName, record.organisation,
                record.role, record.purpose, record.patient.digits, record.decision.rawValue, record.reason,
                record.viaGateway ?? "",
            ])
        }
    }

    /// `caregate audit users`: per user, their queries, patients, break-glass and refusals over a period, as
    /// `GET /admin/audit/users` counts them.
    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per user: queries, different patients, break-glass and refusals in a period, most patients first.")
        @Option(help: "The period's start, an ISO 8601 date or date-time (default: --until less 24 hours).") var since: String?
        @Option(help: "The period's end, not included (default: now).") var until: String?
        @Option(help: "The most users listed.") var limit = 100
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let end = try AuditCommand.date(until, "until") ?? Date()
            let start = try AuditCommand.date(since, "since") ?? end.addingTimeInterval(-86_400)
            guard start < end else { throw ValidationError("--since must be before --until") }
            guard limit >= 1 else { throw ValidationError("--limit must be 1 or more") }
            let users = try await AuditCommand.withTrail(store) { trail in
                try await trail.accessVolume(since: start, until: end, limit: limit)
            }
            say(
                AuditCommand.tsv([
                    "user", "name", "organisations", "roles", "queries", "patients", "emergency", "refused", "first", "last",
                ]))
            for user in users {
                say(
                    AuditCommand.tsv([
                        user.userID, user.userName, user.organisations.joined(separator: ","),
                        user.roles.joined(separator: ","), String(user.queries),
                        String(user.patients), String(user.emergency), String(user.refused), AuditTime.text(user.first),
                        AuditTime.text(user.last),
                    ]))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain; exits non-zero and names the first broken record if any was edited or deleted.")
        @OptionGroup var store: StoreOptions
        func run() async throws {
            let verification = try await AuditCommand.withTrail(store) { try await $0.verify() }
            say(verification.description)
            if case .broken = verification { throw ExitCode.failure }
        }
    }
}

/// The key a gateway signs on-behalf-of tokens with (federation): made once, kept private, its public half given
/// to the gateways it asks.
struct GatewayKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-key",
        abstract: "Create (or read) this gateway's federation key; print its public JWKS for the gateways it asks.",
        discussion: """
            The private key (EC P-256, PEM) is created with mode 0600 if the file does not exist, and read if it \
            does. Name the file as `key_file` and the key id as `key_id` in the `auth.on_behalf_of` of each \
            `kind: gateway` provider file; save the printed JWKS where the other gateway's `auth.gateways` entry \
            names it (`jwks_file`). The JWKS holds only the public key.
            """)

    @Argument(help: "The private key's PEM file.") var file: String
    @Option(name: .customLong("key-id"), help: "The key id (kid), as the provider files will name it.")
    var keyID: String

    func run() async throws {
        guard !keyID.isEmpty, keyID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else { throw ValidationError("--key-id: letters, digits, '-', '_' and '.' only") }
        do {
            say(try DemoSigningKey(keyFile: file, keyID: keyID).jwksJSON)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
