import CareRecords
import Logging
import Policy
import Providers
import ServiceLifecycle

/// The provider registry kept the same on every replica sharing a PostgreSQL store, and across restarts of a single
/// one with SQLite: admin API changes go into the `ProviderChangeLog`, and each replica applies every change, its own
/// at once and the others' within `pollInterval`, over the providers folder's definitions.
///
/// What a replica uses is the providers folder (the same ConfigMap on every replica), then each provider's latest
/// change: its definition as sent, or its removal. A change this replica cannot apply (a definition naming a file
/// its folders lack, during a rolling update) is logged and the provider keeps what it had; the next change for
/// it, or a restart, tries again. While the store cannot be reached, the providers in use stay as they are.
public actor SharedProviders: Service {
    /// A change in force for a provider (a reset ends one, so is never in force).
    private enum Latest {
        case defined(String)
        case removed
    }

    private let log: any ProviderChangeLog
    private let providers: ProviderDirectory
    /// The providers folder (definitions' relative paths resolve against it); nil when there is none.
    private let folder: String?
    /// Where a definition from the log may name files: as through the admin API that wrote it.
    private let files: ProviderFileAccess
    public let pollInterval: Duration
    private let logger: Logger
    private var latest: [ProviderID: Latest] = [:]
    private var lastSequence: Int64 = 0
    /// Providers whose latest change this replica could not apply.
    private var unapplied: Set<ProviderID> = []

    /// The last change read (its sequence number; 0 before any), and how many providers' latest changes this
    /// replica could not apply: what `/metrics` shows, so an operator sees a replica left behind.
    public var state: (sequence: Int64, unapplied: Int) { (lastSequence, unapplied.count) }

    /// Applies every change recorded so far (a replica starting after changes were made starts with them).
    public init(
        log: any ProviderChangeLog, providers: ProviderDirectory, folder: String?, files: ProviderFileAccess,
        pollInterval: Duration = .seconds(2), logger: Logger
    ) async throws(ProviderChangeLogError) {
        self.log = log
        self.providers = providers
        self.folder = folder
        self.files = files
        self.pollInterval = pollInterval
        self.logger = logger
        try await synchronise()
    }

    /// Records a change made through this replica (`definition` nil: a removal) and applies it, with any other
    /// replica's made before it, before returning. False when it was recorded but this replica could not apply
    /// it (it is logged; the provider keeps what it had here).
    @discardableResult
    public func record(_ definition: String?, for provider: ProviderID, by user: String) async throws(ProviderChangeLogError)
        -> Bool
    {
        let sequence = try await log.append(
            provider: provider.rawValue, definition.map(ProviderChange.Action.defined) ?? .removed, changedBy: user)
        let unapplied = try await synchronise()
        return !unapplied.contains(sequence)
    }

    /// Records, by `user`, that the providers folder decides `provider` again — its definition there, or none —
    /// ending every change made through the admin API before, and applies it before returning. False when this
    /// replica could not apply it (the folder cannot be read; logged).
    @discardableResult
    public func reset(_ provider: ProviderID, by user: String) async throws(ProviderChangeLogError) -> Bool {
        let sequence = try await log.append(provider: provider.rawValue, .reset, changedBy: user)
        let unapplied = try await synchronise()
        return !unapplied.contains(sequence)
    }

    /// Whether a change made through the admin API is in force for `provider` (a reset ends it).
    public func hasChange(for provider: ProviderID) -> Bool { latest[provider] != nil }

    /// Applies the changes recorded since the last one applied. Only each provider's latest counts (a replica
    /// starting after a hundred edits of one provider builds its adapter once, not a hundred times).
    /// Returns the sequence numbers of the changes this replica could not apply.
    @discardableResult
    public func synchronise() async throws(ProviderChangeLogError) -> Set<Int64> {
        let changes = try await log.changes(after: lastSequence)
        guard let last = changes.last else { return [] }
        var latestIndex: [String: Int] = [:]
        for (index, change) in changes.enumerated() { latestIndex[change.provider] = index }
        var unapplied: Set<Int64> = []
        for index in latestIndex.values.sorted() where !apply(changes[index]) {
            unapplied.insert(changes[index].sequence)
        }
        lastSequence = last.sequence
        return unapplied
    }

    /// Every change made to `provider` through the admin API, oldest first.
    public nonisolated func history(of provider: ProviderID) async throws(ProviderChangeLogError)
        -> [ProviderChangeRecord]
    {
        try await log.history(of: provider.rawValue)
    }

    /// The providers folder's definitions (just re-read: a SIGHUP), with every change applied over them.
    public func replaceFolderDefinitions(_ definitions: [ProviderDefinition]) throws(ConfigurationError) {
        var effective = Dictionary(definitions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for (provider, latest) in latest {
            switch latest {
            case .removed:
                effective[provider] = nil
            case .defined(let text):
                // A change that does not read here keeps the folder's definition (as when it first failed).
                if let definition = definition(text, for: provider) { effective[provider] = definition }
            }
        }
        try providers.replaceAll(with: effective.values.sorted { $0.id < $1.id })
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            let interval = pollInterval
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil,
                !Task.isShuttingDownGracefully
            else { break }
            do {
                try await synchronise()
            } catch {
                logger.warning("provider changes not read; the providers in use are unchanged", metadata: ["reason": "\(error)"])
            }
        }
        await log.shutdown()
    }

    /// False when the change could not be applied here.
    private func apply(_ change: ProviderChange) -> Bool {
        let provider = ProviderID(change.provider)
        unapplied.remove(provider)
        let text: String
        switch change.action {
        case .reset:
            return applyFolderDefinition(of: provider, change: change)
        case .removed:
            latest[provider] = .removed
            if providers.remove(provider) {
                logger.notice("provider removed through the provider change log", metadata: ["provider": "\(provider)"])
            }
            return true
        case .defined(let sent):
            text = sent
        }
        latest[provider] = .defined(text)
        // `definition(_:for:)` logs why it could not read one.
        guard let definition = definition(text, for: provider) else {
            unapplied.insert(provider)
            return false
        }
        do {
            try providers.register(definition)
            return true
        } catch {
            logger.error(
                "a provider change could not be applied on this replica; the provider keeps what it had",
                metadata: ["provider": "\(provider)", "sequence": "\(change.sequence)", "reason": "\(error)"])
            unapplied.insert(provider)
            return false
        }
    }

    /// The folder's definition of `provider` in force again, or none if the folder has none.
    private func applyFolderDefinition(of provider: ProviderID, change: ProviderChange) -> Bool {
        latest[provider] = nil
        do {
            let definitions = try folder.map { try ProviderRegistry.load(directory: $0).definitions } ?? []
            if let definition = definitions.first(where: { $0.id == provider }) {
                try providers.register(definition)
            } else {
                _ = providers.remove(provider)
            }
            logger.notice("provider handed back to the providers folder", metadata: ["provider": "\(provider)"])
            return true
        } catch {
            logger.error(
                "a provider could not be handed back to the providers folder on this replica; it keeps what it had",
                metadata: ["provider": "\(provider)", "sequence": "\(change.sequence)", "reason": "\(error)"])
            unapplied.insert(provider)
            return false
        }
    }

    private func definition(_ text: String, for provider: ProviderID) -> ProviderDefinition? {
        do {
            let definition = try ProviderDefinition(
                yaml: text, file: "provider change for \(provider)", relativeTo: folder, files: files)
            guard definition.id == provider else { return nil }
            return definition
        } catch {
            logger.error(
                "a provider change could not be applied on this replica; the provider keeps what it had",
                metadata: ["provider": "\(provider)", "reason": "\(error)"])
            return nil
        }
    }
}
