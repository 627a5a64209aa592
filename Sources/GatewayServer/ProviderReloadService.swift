import Logging
import Providers
import ServiceLifecycle
import UnixSignals

/// Re-reads the providers folder on SIGHUP. A folder with any bad file is refused as a whole and the providers
/// in use stay as they were: a half-applied reload could silently drop a provider from clinicians' views.
/// With a shared store, the changes made through the admin API are applied over the folder's definitions again.
struct ProviderReloadService: Service {
    let providers: ProviderDirectory
    let folder: String
    let shared: SharedProviders?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    func reload() async {
        do {
            let registry = try ProviderRegistry.load(directory: folder)
            if let shared {
                try await shared.replaceFolderDefinitions(registry.definitions)
            } else {
                try providers.replaceAll(with: registry.definitions)
            }
        } catch {
            logger.error("providers folder not reloaded; the providers in use are unchanged", metadata: ["reason": "\(error)"])
        }
    }
}
