import CareGateTesting
import CareRecords
import Foundation
import GatewayServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Policy
import ProviderSimulator
import Providers
import Synchronization
import Testing

/// The provider registry at run time: changes through the admin API apply to the next query, without a restart.
@Suite struct AdminProviderTests {
    let demo = LiveGateway.population.demoPatient

    /// A provider file for another id served by the simulated GP (so it really answers).
    func copyOfGP(_ gateway: LiveGateway, id: String) throws -> String {
        let gp = try #require(gateway.endpoints.first { $0.id == SimulatedProviderID.gp })
        return gp.providerDefinitionYAML().replacingOccurrences(of: "id: gp", with: "id: \(id)")
    }

    func put(_ gateway: LiveGateway, _ id: String, _ body: String, contentType: String = "application/yaml") async throws
        -> (HTTPResponse.Status, [String: String])
    {
        var headers = try await gateway.access.operatorHeaders()
        headers[.contentType] = contentType
        return try await gateway.client.execute(
            uri: "/admin/providers/\(id)", method: .put, headers: headers, body: ByteBuffer(string: body)
        ) { response in
            if response.status.code >= 400, let outcome = try? OutcomeBody(Data(buffer: response.body)) {
                return (response.status, ["error": outcome.code ?? "", "message": outcome.message ?? ""])
            }
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (response.status, json.compactMapValues { $0 as? String })
        }
    }

    @Test func listsTheProvidersInUse() async throws {
        try await LiveGateway.run { gateway in
            try await gateway.client.execute(uri: "/admin/providers", method: .get, headers: try await gateway.access.operatorHeaders()) { response in
                #expect(response.status == .ok)
                let list = try JSONDecoder().decode([String: [[String: AnyCodable]]].self, from: Data(buffer: response.body))
                let ids = list["providers"]?.compactMap { $0["id"]?.string }
                #expect(ids == gateway.providers.definitions.map(\.id.rawValue))
                #expect(list["providers"]?.first?["timeout_ms"]?.int != nil)
            }
        }
    }

    @Test func aRegisteredProviderIsAskedFromTheNextQuery() async throws {
        try await LiveGateway.run { gateway in
            let (status, body) = try await put(gateway, "gp-replica", try copyOfGP(gateway, id: "gp-replica"))
            #expect(status == .created)
            #expect(body["id"] == "gp-replica")
            let (view, _, _) = try await gateway.record(demo.nhsNumber)
            let replica = try #require(view.provider("gp-replica"))
            #expect(replica.status == "ok")
            #expect(replica.entries == view.provider(SimulatedProviderID.gp)?.entries)
            // The same facts from two sources merge: every GP entry now lists the replica too.
            #expect(view.entries(from: SimulatedProviderID.gp).allSatisfy { entry in
                entry.sources.contains { $0.provider == "gp-replica" }
            })

            // A second PUT replaces it (200), and the change applies at once.
            let slower = try copyOfGP(gateway, id: "gp-replica").replacingOccurrences(of: "timeout_ms: 800", with: "timeout_ms: 900")
            let (again, replaced) = try await put(gateway, "gp-replica", slower)
            #expect(again == .ok)
            #expect(gateway.providers.definitions.first { $0.id == "gp-replica" }?.timeoutMilliseconds == 900)
            #expect(replaced["id"] == "gp-replica")
        }
    }

    @Test func aJSONBodyIsAcceptedToo() async throws {
        try await LiveGateway.run { gateway in
            let gp = try #require(gateway.endpoints.first { $0.id == SimulatedProviderID.gp })
            let json = """
                {"id": "gp-json", "name": "GP via JSON", "kind": "gp", "ods": "Y99901", "format": "fhir-r4-xml",
                 "url": "\(gp.urlTemplate)", "timeout_ms": 800, "categories": ["medication", "allergy"]}
                """
            let (status, _) = try await put(gateway, "gp-json", json, contentType: "application/json")
            #expect(status == .created)
            #expect(gateway.providers.definitions.contains { $0.id == "gp-json" && $0.categories == [.medication, .allergy] })
        }
    }

    /// A new empty folder, removed after `body`.
    func withFolder<Result>(_ body: (URL) async throws -> Result) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appending(path: "caregate-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(folder)
    }

    @Test func theSummaryNamesACredentialFileButNeverWhatItHolds() async throws {
        let token = "admin-summary-token.\(UUID().uuidString)"
        try await withFolder { credentials in
            let file = credentials.appending(path: "gp-token")
            try Data(token.utf8).write(to: file)
            try await LiveGateway.run(providerCredentials: credentials.path) { gateway in
                // The simulated GP listens on 127.0.0.1, where a token may go over plain http.
                let yaml = try copyOfGP(gateway, id: "gp-token") + "\nauth:\n  bearer_token_file: \(file.path)\n"
                let (status, body) = try await put(gateway, "gp-token", yaml)
                #expect(status == .created)
                #expect(body["bearer_token_file"] == file.resolvingSymlinksInPath().path)
                #expect(!body.values.contains { $0.contains(token) })
                try await gateway.client.execute(
                    uri: "/admin/providers", method: .get, headers: try await gateway.access.operatorHeaders()
                ) { response in
                    #expect(String(buffer: response.body).contains("gp-token"))
                    #expect(!String(buffer: response.body).contains(token))
                }
            }
        }
    }

    /// A definition sent here may not make the gateway read any file it can (and send it as a token to a URL of
    /// the sender's choosing): only files in the providers and credentials folders, however the path is spelt.
    @Test func aDefinitionNamingAFileOutsideTheAllowedFoldersIsRefused() async throws {
        try await withFolder { credentials in
            try await withFolder { outside in
                let secret = outside.appending(path: "service-account-token")
                try Data("eyJhbGciOiJSUzI1NiJ9.outside.secret".utf8).write(to: secret)
                // A link inside the credentials folder that leads outside it.
                let link = credentials.appending(path: "innocent-token")
                try FileManager.default.createSymbolicLink(at: link, withDestinationURL: secret)
                try await LiveGateway.run(providerCredentials: credentials.path) { gateway in
                    let before = gateway.providers.definitions
                    let escapes: [(key: String, yaml: String)] = [
                        ("auth.bearer_token_file", "auth:\n  bearer_token_file: \(secret.path)"),
                        ("auth.bearer_token_file", "auth:\n  bearer_token_file: \(link.path)"),
                        ("auth.bearer_token_file", "auth:\n  bearer_token_file: \(credentials.path)/../\(outside.lastPathComponent)/service-account-token"),
                        ("auth.bearer_token_file", "auth:\n  bearer_token_file: /nonexistent/token"),
                        ("schema", "schema: /etc/hostname"),
                    ]
                    for escape in escapes {
                        let yaml = try copyOfGP(gateway, id: "gp-escape") + "\n\(escape.yaml)\n"
                        let (status, body) = try await put(gateway, "gp-escape", yaml)
                        #expect(status == .badRequest, "\(escape.yaml)")
                        let message = body["message"] ?? ""
                        #expect(message.contains("key '\(escape.key)'"), "\(message)")
                        #expect(message.contains("outside the folders a provider registered through the admin API may name"), "\(message)")
                        #expect(!message.contains("outside.secret"))
                    }
                    #expect(gateway.providers.definitions == before)
                }
            }
        }
    }

    /// With a shared store, a change is recorded there (with who made it), so every replica applies it; a store
    /// that cannot take a change refuses it, and nothing changes.
    @Test(.enabled(if: TestPostgres.isConfigured, "CAREGATE_TEST_POSTGRES_URL is unset"))
    func withASharedStoreAChangeReachesEveryReplica() async throws {
        try await TestPostgres.withScratchSchema { url in
            let log = try await PostgresProviderChangeLog(url: url)
            try await LiveGateway.run(storeURL: url, providerChanges: log) { gateway in
                let (status, _) = try await put(gateway, "gp-replica", try copyOfGP(gateway, id: "gp-replica"))
                #expect(status == .created)
                #expect(gateway.providers.definitions.contains { $0.id == "gp-replica" })
                let (other, otherShared) = try await SharedProvidersTests.replica(url)
                #expect(other.definitions.contains { $0.id == "gp-replica" })
                // Who made the change is kept with it (the demo operator token's `sub`).
                // A provider_changes row ends with its changed_by and reset columns.
                #expect(try await TestPostgres.dumpSchema(url).contains(",demo-r8000,f)"))
                // Operators see how far this replica has read, and that it applied everything.
                try await gateway.client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(text.contains("\ncaregate_provider_changes_read 1.0\n"), "\(text.suffix(600))")
                    #expect(text.contains("\ncaregate_provider_changes_unapplied 0.0\n"))
                }

                try await gateway.client.execute(
                    uri: "/admin/providers/gp-replica", method: .delete, headers: try await gateway.access.operatorHeaders()
                ) { response in
                    #expect(response.status == .noContent)
                }
                try await otherShared.synchronise()
                #expect(!other.definitions.contains { $0.id == "gp-replica" })
                #expect(!gateway.providers.definitions.contains { $0.id == "gp-replica" })

                // Who registered and removed it, and when, stays readable after it is gone.
                try await gateway.client.execute(
                    uri: "/admin/providers/gp-replica/history", method: .get,
                    headers: try await gateway.access.operatorHeaders()
                ) { response in
                    #expect(response.status == .ok)
                    let history = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    let changes = history?["changes"] as? [[String: Any]] ?? []
                    #expect(changes.map { $0["change"] as? String } == ["defined", "removed"])
                    #expect(changes.allSatisfy { $0["changed_by"] as? String == "demo-r8000" })
                    #expect((changes.first?["definition"] as? String)?.contains("id: gp-replica") == true)
                    #expect(changes.allSatisfy { ($0["changed_at"] as? String)?.hasSuffix("Z") == true })
                }
                try await gateway.client.execute(
                    uri: "/admin/providers/gp/history", method: .get, headers: try await gateway.access.operatorHeaders()
                ) { response in
                    #expect(response.status == .notFound)
                }

                await log.shutdown()
                let before = gateway.providers.definitions
                let (refused, body) = try await put(gateway, "gp-late", try copyOfGP(gateway, id: "gp-late"))
                #expect(refused == .serviceUnavailable)
                #expect(body["error"] == "store-unavailable")
                #expect(gateway.providers.definitions == before)
            }
        }
    }

    /// `POST /admin/providers/{id}/reset`: the providers folder decides the provider again — its definition there, or
    /// none — and the history says who did it and when.
    @Test func aResetHandsAProviderBackToTheProvidersFolder() async throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("caregate-reset-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let log = try await makeProviderChangeLog(.sqlite(path: folder + "/" + AccessControl.providerChangesFile))
        // The gateway's providers folder here is the repository's, whose ambulance.yaml names port 9103.
        try await LiveGateway.run(providerChanges: log) { gateway in
            let headers = try await gateway.access.operatorHeaders()
            func reset(_ id: String) async throws -> (HTTPResponse.Status, String) {
                try await gateway.client.execute(uri: "/admin/providers/\(id)/reset", method: .post, headers: headers) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            let (untouched, untouchedBody) = try await reset("ambulance")
            #expect(untouched == .notFound)
            #expect(untouchedBody.contains("no-change"))

            try await gateway.client.execute(uri: "/admin/providers/ambulance", method: .delete, headers: headers) {
                #expect($0.status == .noContent)
            }
            #expect(!gateway.providers.definitions.contains { $0.id == "ambulance" })
            let (restored, body) = try await reset("ambulance")
            #expect(restored == .ok)
            #expect(body.contains("http://127.0.0.1:9103/epcr/patients/{nhs}"), "\(body)")
            #expect(gateway.providers.definitions.first { $0.id == "ambulance" }?.urlTemplate
                == "http://127.0.0.1:9103/epcr/patients/{nhs}")

            #expect(try await put(gateway, "gp-extra", try copyOfGP(gateway, id: "gp-extra")).0 == .created)
            #expect(try await reset("gp-extra").0 == .noContent)
            #expect(!gateway.providers.definitions.contains { $0.id == "gp-extra" })

            try await gateway.client.execute(uri: "/admin/providers/ambulance/history", method: .get, headers: headers) {
                let history = try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any]
                let changes = history?["changes"] as? [[String: Any]] ?? []
                #expect(changes.map { $0["change"] as? String } == ["removed", "reset"])
                #expect(changes.allSatisfy { $0["changed_by"] as? String == "demo-r8000" })
            }
            #expect(try await reset("ambulance").0 == .notFound)
        }
        await log.shutdown()
    }

    @Test func withoutAChangeLogThereIsNoHistory() async throws {
        try await LiveGateway.run { gateway in
            try await gateway.client.execute(
                uri: "/admin/providers/gp/history", method: .get, headers: try await gateway.access.operatorHeaders()
            ) { response in
                #expect(response.status == .notFound)
                let outcome = try OutcomeBody(Data(buffer: response.body))
                #expect(outcome.code == "no-history")
                #expect(outcome.message?.contains("no provider change log") == true)
            }
        }
    }

    @Test func anInvalidDefinitionIsRefusedWith400AndChangesNothing() async throws {
        try await LiveGateway.run { gateway in
            let before = gateway.providers.definitions
            let bad = try copyOfGP(gateway, id: "gp-bad").replacingOccurrences(of: "kind: gp", with: "kind: surgery")
            let (status, body) = try await put(gateway, "gp-bad", bad)
            #expect(status == .badRequest)
            #expect(body["error"] == "invalid-provider")
            #expect(body["message"]?.contains("key 'kind': unknown kind 'surgery'") == true)

            let (mismatch, mismatchBody) = try await put(gateway, "other", try copyOfGP(gateway, id: "gp-x"))
            #expect(mismatch == .badRequest)
            #expect(mismatchBody["message"]?.contains("does not match") == true)
            #expect(gateway.providers.definitions == before)
        }
    }

    @Test func aRemovedProviderIsNoLongerAsked() async throws {
        try await LiveGateway.run { gateway in
            try await gateway.client.execute(uri: "/admin/providers/ambulance", method: .delete, headers: try await gateway.access.operatorHeaders()) { response in
                #expect(response.status == .noContent)
            }
            let (view, _, _) = try await gateway.record(demo.nhsNumber)
            #expect(view.provider(SimulatedProviderID.ambulance) == nil)
            #expect(view.providers.count == gateway.endpoints.count - 1)
            try await gateway.client.execute(uri: "/admin/providers/ambulance", method: .delete, headers: try await gateway.access.operatorHeaders()) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// A single replica (no shared store) keeps its changes in a SQLite file in its data directory: applied over the
    /// providers folder at every start and reload, never written into the folder, with their history.
    @Test func aSingleReplicaKeepsItsChangesAndTheirHistoryInSQLite() async throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("caregate-admin-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = StoreLocation.sqlite(path: folder + "/" + AccessControl.providerChangesFile)
        let log = try await makeProviderChangeLog(store)
        let sent = Mutex("")
        try await LiveGateway.run(providersFolder: folder, providerChanges: log) { gateway in
            let saved = try copyOfGP(gateway, id: "gp-saved")
            sent.withLock { $0 = saved }
            let (status, _) = try await put(gateway, "gp-saved", saved)
            #expect(status == .created)
            #expect(gateway.providers.definitions.contains { $0.id == "gp-saved" })
            #expect(!FileManager.default.fileExists(atPath: folder + "/gp-saved.yaml"))
            try await gateway.client.execute(
                uri: "/admin/providers/ambulance", method: .delete, headers: try await gateway.access.operatorHeaders()
            ) { response in
                #expect(response.status == .noContent)
            }
            try await gateway.client.execute(
                uri: "/admin/providers/gp-saved/history", method: .get, headers: try await gateway.access.operatorHeaders()
            ) { response in
                #expect(response.status == .ok)
                let history = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                let changes = history?["changes"] as? [[String: Any]] ?? []
                #expect(changes.map { $0["change"] as? String } == ["defined"])
                #expect(changes.first?["changed_by"] as? String == "demo-r8000")
                #expect(changes.first?["definition"] as? String == saved)
            }
        }
        await log.shutdown()

        // A restart: the folder's providers (here, none), then every change in the file.
        let reopened = try await makeProviderChangeLog(store)
        let directory = try ProviderDirectory(definitions: [], logger: Logger(label: "test")) { definition in
            FakeAdapter(definition: definition, .answer(after: .zero, entries: 0))
        }
        let shared = try await SharedProviders(
            log: reopened, providers: directory, folder: folder, files: .within([folder, LiveGateway.providersFolder]),
            logger: Logger(label: "test"))
        #expect(directory.definitions.map(\.id.rawValue) == ["gp-saved"])
        // A reload of a folder that lists the removed provider keeps it removed, and keeps the one registered.
        let saved = sent.withLock { $0 }
        let ambulance = try ProviderDefinition(
            yaml: saved.replacingOccurrences(of: "id: gp-saved", with: "id: ambulance"), file: "ambulance.yaml",
            relativeTo: LiveGateway.providersFolder)
        try await shared.replaceFolderDefinitions([ambulance])
        #expect(directory.definitions.map(\.id.rawValue) == ["gp-saved"])
        #expect(try await reopened.history(of: "ambulance").map(\.change.action) == [.removed])
        await reopened.shutdown()
    }
}

/// Just enough of "any JSON value" to read the admin listing in tests.
struct AnyCodable: Decodable {
    let string: String?
    let int: Int?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        string = try? container.decode(String.self)
        int = try? container.decode(Int.self)
    }
}
