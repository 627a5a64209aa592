import CareRecords
import Logging
import Synchronization

/// The providers the gateway fans out to right now. Registering, replacing or removing one takes effect for the
/// next query; a query already under way keeps the adapters it started with.
///
/// An adapter that is replaced or removed may still be serving a query, so its connections are closed only
/// after `retirementDelay` (longer than any query's deadline).
public final class ProviderDirectory: Sendable {
    public typealias AdapterFactory = @Sendable (ProviderDefinition) throws(ConfigurationError) -> any ProviderAdapter

    private let adapters: Mutex<[ProviderID: any ProviderAdapter]>
    private let makeAdapter: AdapterFactory?
    private let retirementDelay: Duration
    private let logger: Logger

    /// - Parameters:
    ///   - adapters: the providers to start with; ids must be unique.
    ///   - makeAdapter: builds an adapter for a definition registered later; without one, the set is fixed.
    public init(
        adapters: [any ProviderAdapter], makeAdapter: AdapterFactory? = nil, retirementDelay: Duration = .seconds(65),
        logger: Logger = Logger(label: "caregate.providers")
    ) throws(ConfigurationError) {
        var byID: [ProviderID: any ProviderAdapter] = [:]
        for adapter in adapters {
            guard byID.updateValue(adapter, forKey: adapter.definition.id) == nil else {
                throw ConfigurationError(
                    file: "providers", key: "id", problem: "provider id '\(adapter.definition.id)' is declared twice")
            }
        }
        self.adapters = Mutex(byID)
        self.makeAdapter = makeAdapter
        self.retirementDelay = retirementDelay
        self.logger = logger
    }

    /// A directory built from definitions, with the factory that builds their adapters and any registered later.
    public convenience init(
        definitions: [ProviderDefinition], retirementDelay: Duration = .seconds(65), logger: Logger,
        makeAdapter: @escaping AdapterFactory
    ) throws(ConfigurationError) {
        var adapters: [any ProviderAdapter] = []
        for definition in definitions { adapters.append(try makeAdapter(definition)) }
        try self.init(adapters: adapters, makeAdapter: makeAdapter, retirementDelay: retirementDelay, logger: logger)
    }

    /// The current adapters, in provider-id order.
    public var current: [any ProviderAdapter] {
        adapters.withLock { $0.values.sorted { $0.definition.id < $1.definition.id } }
    }

    public var definitions: [ProviderDefinition] { current.map(\.definition) }

    /// Registers a provider, or replaces the one with the same id. Returns true when it replaced one.
    @discardableResult
    public func register(_ definition: ProviderDefinition) throws(ConfigurationError) -> Bool {
        let adapter = try adapter(for: definition)
        let previous = adapters.withLock { $0.updateValue(adapter, forKey: definition.id) }
        if let previous { retire([previous]) }
        logger.notice(
            previous == nil ? "provider registered" : "provider updated", metadata: ["provider": "\(definition.id)"])
        return previous != nil
    }

    /// Removes a provider. Returns false when there was none with that id.
    @discardableResult
    public func remove(_ id: ProviderID) -> Bool {
        guard let previous = adapters.withLock({ $0.removeValue(forKey: id) }) else { return false }
        retire([previous])
        logger.notice("provider removed", metadata: ["provider": "\(id)"])
        return true
    }

    /// Replaces every provider at once (a reload of the providers folder). Nothing changes if any definition is bad.
    public func replaceAll(with definitions: [ProviderDefinition]) throws(ConfigurationError) {
        var fresh: [ProviderID: any ProviderAdapter] = [:]
        for definition in definitions {
            guard fresh.updateValue(try adapter(for: definition), forKey: definition.id) == nil else {
                throw ConfigurationError(
                    file: "providers", key: "id", problem: "provider id '\(definition.id)' is declared twice")
            }
        }
        let previous = adapters.withLock { adapters in
            defer { adapters = fresh }
            return Array(adapters.values)
        }
        retire(previous)
        logger.notice("providers reloaded", metadata: ["providers": "\(fresh.count)"])
    }

    /// Closes every adapter's connections now. Call once, when the gateway has stopped serving.
    public func shutdown() async {
        let all = adapters.withLock { adapters in
            defer { adapters = [:] }
            return Array(adapters.values)
        }
        await Self.close(all, logger: logger)
    }

    private func adapter(for definition: ProviderDefinition) throws(ConfigurationError) -> any ProviderAdapter {
        guard let makeAdapter else {
            throw ConfigurationError(
                file: "\(definition.id)", problem: "this gateway runs a fixed set of providers and cannot register more")
        }
        return try makeAdapter(definition)
    }

    private func retire(_ retired: [any ProviderAdapter]) {
        guard retired.contains(where: { $0 is HTTPProviderAdapter }) else { return }
        let delay = retirementDelay
        let logger = logger
        Task {
            try? await Task.sleep(for: delay)
            await Self.close(retired, logger: logger)
        }
    }

    private static func close(_ adapters: [any ProviderAdapter], logger: Logger) async {
        for case let adapter as HTTPProviderAdapter in adapters {
            do {
                try await adapter.shutdown()
            } catch {
                logger.warning(
                    "closing a provider's connections failed", metadata: ["provider": "\(adapter.definition.id)"])
            }
        }
    }
}
