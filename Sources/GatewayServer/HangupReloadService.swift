import Foundation
import Logging
import Providers
import ServiceLifecycle
import UnixSignals

/// What SIGHUP re-reads: the providers folder, and the gateway's own TLS files (certificate, key, client CAs).
///
/// A folder with any bad file is refused as a whole and the providers in use stay as they were: a half-applied
/// reload could silently drop a provider from clinicians' views. With a shared store, the changes made through the
/// admin API are applied over the folder's definitions again. A TLS file that cannot be read, or a key that is not its
/// certificate's, leaves the TLS in use as it was; either failure is logged and leaves the other part reloaded.
struct HangupReloadService: Service {
    struct ProvidersFolder {
        let providers: ProviderDirectory
        let folder: String
        let shared: SharedProviders?
    }

    let providersFolder: ProvidersFolder?
    let tls: GatewayTLS?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    func reload() async {
        if let providersFolder { await reload(providersFolder) }
        if let tls { reload(tls) }
    }

    private func reload(_ part: ProvidersFolder) async {
        do {
            let registry = try ProviderRegistry.load(directory: part.folder)
            if let shared = part.shared {
                try await shared.replaceFolderDefinitions(registry.definitions)
            } else {
                try part.providers.replaceAll(with: registry.definitions)
            }
        } catch {
            logger.error("providers folder not reloaded; the providers in use are unchanged", metadata: ["reason": "\(error)"])
        }
    }

    private func reload(_ tls: GatewayTLS) {
        do {
            let expiry = try tls.reload()
            var metadata: Logger.Metadata = ["file": "\(tls.certificateFile)", "valid_until": "\(expiry.formatted(.iso8601))"]
            if let clientCAFile = tls.clientCAFile { metadata["client_ca_file"] = "\(clientCAFile)" }
            logger.notice("TLS certificate reloaded; new connections are served with it", metadata: metadata)
        } catch {
            logger.error(
                "TLS certificate not reloaded; the certificate and client CAs in use stay", metadata: ["reason": "\(error)"])
        }
    }
}
