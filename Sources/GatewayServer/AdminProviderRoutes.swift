import CareRecords
import Foundation
import Hummingbird
import Policy
import Providers

/// The provider registry at run time, for provider teams and operators:
/// `GET /admin/providers`, `GET|PUT|DELETE /admin/providers/{id}`, `GET /admin/providers/{id}/history`. A PUT body is
/// the provider file's YAML (or its JSON equivalent, which is YAML too); it is checked exactly as a file would be,
/// and takes effect for the next query.
///
/// Operators only: a bearer token with the `caregate.admin` scope. A definition sent here may name files (mapping,
/// schema, TLS and token files) only in the providers folder and the provider credentials folder
/// (`ProviderFileAccess`).
///
/// A change is recorded in the provider change log (`SharedProviders`: the shared PostgreSQL store, or a SQLite file
/// in the data directory for a single replica), with who made it and when, and applied over the providers folder —
/// by every replica, and again at every start and reload; the providers folder is never written (on Kubernetes it is
/// a read-only ConfigMap). A change the log cannot take is refused (503) and changes nothing, here or elsewhere.
/// Without a change log (an application built without one, as the demo's is not), changes last until the process
/// stops, and there is no history.
struct AdminProviderRoutes: Sendable {
    let providers: ProviderDirectory
    let providersFolder: String?
    /// `provider_credentials` in the config.
    let credentialsFolder: String?
    let shared: SharedProviders?
    /// `schemas` in the config, for the provider check.
    let schemasFolder: String
    let authenticator: Authenticator

    /// Where a definition sent here may name files.
    var fileAccess: ProviderFileAccess { .adminAPI(providersFolder: providersFolder, credentialsFolder: credentialsFolder) }

    func register(on router: Router<GatewayRequestContext>) {
        let admin = router.group("/admin/providers").add(middleware: OperatorOnlyMiddleware(authenticator: authenticator))
        admin.get { _, _ in try Self.json(ProviderList(providers: providers.definitions.map(ProviderSummary.init))) }
        admin.get(":id") { _, context in
            let id = try Self.providerID(context)
            guard let definition = providers.definitions.first(where: { $0.id == id }) else {
                throw GatewayError(.notFound, code: "unknown-provider", message: "no provider with id '\(id)'")
            }
            return try Self.json(ProviderSummary(definition))
        }
        admin.get(":id/history") { _, context in
            let id = try Self.providerID(context)
            guard let shared else {
                throw GatewayError(
                    .notFound, code: "no-history", message: "this gateway keeps no provider change log, so no history")
            }
            var records: [ProviderChangeRecord] = []
            try await Self.recording("provider history not read") { records = try await shared.history(of: id) }
            guard !records.isEmpty else {
                throw GatewayError(
                    .notFound, code: "no-history", message: "no change to provider '\(id)' was made through the admin API")
            }
            return try Self.json(ProviderHistory(provider: id.rawValue, records: records))
        }
        admin.put(":id") { request, context in
            try await put(request, context: context)
        }
        ProviderCheckRoute(providers: providers, schemasFolder: schemasFolder, authenticator: authenticator)
            .register(on: admin)
        admin.post(":id/reset") { _, context in
            try await reset(context)
        }
        admin.delete(":id") { _, context in
            let id = try Self.providerID(context)
            guard providers.definitions.contains(where: { $0.id == id }) else {
                throw GatewayError(.notFound, code: "unknown-provider", message: "no provider with id '\(id)'")
            }
            if let shared {
                try await Self.recording { try await shared.record(nil, for: id, by: context.operatorUserID ?? "") }
            } else {
                _ = providers.remove(id)
            }
            return Response(status: .noContent)
        }
    }

    private func put(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let id = try Self.providerID(context)
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        guard let text = body.getString(at: body.readerIndex, length: body.readableBytes) else {
            throw GatewayError(.badRequest, code: "invalid-provider", message: "the body is not UTF-8 text")
        }
        let definition: ProviderDefinition
        do {
            definition = try ProviderDefinition(
                yaml: text, file: "request body", relativeTo: providersFolder ?? FileManager.default.currentDirectoryPath,
                files: fileAccess)
        } catch {
            throw GatewayError(.badRequest, code: "invalid-provider", message: error.description)
        }
        guard definition.id == id else {
            throw GatewayError(
                .badRequest, code: "invalid-provider",
                message: "the body's id '\(definition.id)' does not match the path's '\(id)'")
        }
        let replaced: Bool
        if let shared {
            replaced = providers.definitions.contains { $0.id == id }
            var applied = true
            try await Self.recording { applied = try await shared.record(text, for: id, by: context.operatorUserID ?? "") }
            guard applied else {
                throw GatewayError(
                    .internalServerError, code: "not-applied",
                    message: "recorded in the provider change log, but this replica could not apply it (see its log)")
            }
        } else {
            do {
                replaced = try providers.register(definition)
            } catch {
                throw GatewayError(.badRequest, code: "invalid-provider", message: error.description)
            }
        }
        var response = try Self.json(ProviderSummary(definition))
        response.status = replaced ? .ok : .created
        return response
    }

    /// `POST /admin/providers/{id}/reset`: the providers folder decides the provider again — its definition there
    /// is used (200, with it), or, if the folder has none, the provider is removed (204) — ending every change made
    /// through the admin API before. Recorded, with who and when, like any change.
    private func reset(_ context: GatewayRequestContext) async throws -> Response {
        let id = try Self.providerID(context)
        guard let shared else {
            throw GatewayError(
                .notFound, code: "no-change", message: "this gateway keeps no provider change log, so nothing to reset")
        }
        var inForce = false
        try await Self.recording("provider not reset") {
            try await shared.synchronise()
            inForce = await shared.hasChange(for: id)
        }
        guard inForce else {
            throw GatewayError(
                .notFound, code: "no-change",
                message:
                    "no change made through the admin API is in force for provider '\(id)': the providers folder decides it"
            )
        }
        var applied = true
        try await Self.recording("provider not reset") {
            applied = try await shared.reset(id, by: context.operatorUserID ?? "")
        }
        guard applied else {
            throw GatewayError(
                .internalServerError, code: "not-applied",
                message:
                    "recorded in the provider change log, but this replica could not read its providers folder (see its log)"
            )
        }
        guard let definition = providers.definitions.first(where: { $0.id == id }) else {
            return Response(status: .noContent)
        }
        return try Self.json(ProviderSummary(definition))
    }

    /// Runs a call to the shared store; a store that cannot answer is a 503 (for a change: nothing changed).
    private static func recording(_ what: String = "provider change not made", _ change: () async throws -> Void)
        async throws
    {
        do {
            try await change()
        } catch {
            let reason = (error as? ProviderChangeLogError)?.description ?? "the provider change store failed"
            throw GatewayError(.serviceUnavailable, code: "store-unavailable", message: "\(what): \(reason)")
        }
    }

    static func providerID(_ context: GatewayRequestContext) throws -> ProviderID {
        let text = context.parameters.get("id") ?? ""
        guard ProviderID.isValid(text) else {
            throw GatewayError(
                .badRequest, code: "invalid-provider-id",
                message: "path parameter 'id': must be 1–64 lower-case letters, digits or hyphens, starting with a letter")
        }
        return ProviderID(text)
    }

    /// A JSON request body as `type`, or a 400 with `code` saying the body must be a JSON object of `shape`.
    static func jsonBody<Body: Decodable>(_ type: Body.Type, _ body: Data, code: String, shape: String)
        throws(GatewayError) -> Body
    {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw GatewayError(.badRequest, code: code, message: "the body must be a JSON object: \(shape)")
        }
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// `GET /admin/providers/{id}/history`: every change made to a provider through the admin API, oldest first — who
/// registered, replaced or removed it and when, with the definition as sent (file paths, never their contents).
struct ProviderHistory: Codable, Sendable {
    struct Change: Codable, Sendable {
        var sequence: Int64
        var changed_at: String
        var changed_by: String
        /// `defined`, `removed`, or `reset` (the providers folder decides it again).
        var change: String
        var definition: String?
    }

    var provider: String
    var changes: [Change]

    init(provider: String, records: [ProviderChangeRecord]) {
        self.provider = provider
        changes = records.map { record in
            Change(
                sequence: record.change.sequence, changed_at: record.changedAt.formatted(.iso8601),
                changed_by: record.changedBy,
                change: Self.name(of: record.change.action),
                definition: record.change.definition)
        }
    }

    static func name(of action: ProviderChange.Action) -> String {
        switch action {
        case .defined: "defined"
        case .removed: "removed"
        case .reset: "reset"
        }
    }
}

/// A provider as the admin API shows it: the provider file's keys and values.
struct ProviderSummary: Codable, Sendable {
    var id: String
    var name: String
    var kind: String
    var ods: String
    var format: String
    var url: String
    var timeout_ms: Int
    var categories: [String]
    var max_connections: Int
    var max_response_bytes: Int
    var retry_budget: Double
    var mapping: String?
    /// Where the provider's TLS files are (`tls:`), never what they hold.
    var tls: TLSFiles?
    /// Where its bearer token is read from (`auth:`), never the token.
    var bearer_token_file: String?
    /// For another gateway: how the tokens sent to it are signed (`auth.on_behalf_of`), never the key.
    var on_behalf_of: OnBehalfOfSummary?

    struct OnBehalfOfSummary: Codable, Sendable {
        var issuer: String
        var actor: String
        var audience: String
        var key_file: String
        var key_id: String
    }

    struct TLSFiles: Codable, Sendable {
        var ca_file: String?
        var certificate_file: String?
        var key_file: String?
    }

    init(_ definition: ProviderDefinition) {
        id = definition.id.rawValue
        name = definition.name
        kind = definition.kind.rawValue
        ods = definition.ods
        format = definition.format.rawValue
        url = definition.urlTemplate
        timeout_ms = definition.timeoutMilliseconds
        categories = definition.categories.map(\.rawValue).sorted()
        max_connections = definition.maxConnections
        max_response_bytes = definition.maxResponseBytes
        retry_budget = definition.retryBudget
        mapping = definition.mappingFile
        tls = definition.tls.map {
            TLSFiles(ca_file: $0.caFile, certificate_file: $0.certificateFile, key_file: $0.keyFile)
        }
        bearer_token_file = definition.auth?.bearerTokenFile
        on_behalf_of = definition.auth?.onBehalfOf.map {
            OnBehalfOfSummary(
                issuer: $0.issuer, actor: $0.actor, audience: $0.audience, key_file: $0.keyFile, key_id: $0.keyID)
        }
    }
}

struct ProviderList: Codable, Sendable {
    var providers: [ProviderSummary]
}
