import Foundation
import Logging
import Providers
import ServiceLifecycle
import UnixSignals

/// What SIGHUP re-reads: the providers folder, and the gateway's own TLS certificate and key.
///
/// A folder with any bad file is refused as a whole and the providers in use stay as they were: a half-applied
/// reload could silently drop a provider from clinicians' views. With a shared store, the changes made through the
/// admin API are applied over the folder's definitions again. A certificate that cannot be read, or a key that is not
/// its own, leaves the certificate in use presented; either failure is logged and leaves the other part reloaded.
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
        if let tls { reloadCertificate(tls) }
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

    private func reloadCertificate(_ tls: GatewayTLS) {
        do {
            let expiry = try tls.reloadCertificate()
            logger.notice(
                "TLS certificate reloaded; new connections are served with it",
                metadata: ["file": "\(tls.certificateFile)", "valid_until": "\(expiry.formatted(.iso8601))"])
        } catch {
            logger.error(
                "TLS certificate not reloaded; the certificate in use is still presented", metadata: ["reason": "\(error)"])
        }
    }
}
