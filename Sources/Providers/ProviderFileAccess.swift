import Foundation

/// Where the files a provider definition names (`mapping`, `schema`, `tls` and `auth` files) may be.
///
/// A file an operator puts in the providers folder may name any file the gateway can read: whoever can write
/// there can already change the gateway. A definition sent to the admin API may not: with any path allowed, its
/// sender could have the gateway read a file it can and send it as a bearer token to a URL of the sender's choosing
/// (or quote parts of it in an error), a reach beyond what the operator role grants.
public enum ProviderFileAccess: Sendable, Equatable {
    /// Any path.
    case anywhere
    /// Only files inside these folders, once symbolic links and `..` are resolved.
    case within([String])

    /// For a definition sent to the admin API (or read back from the shared store, which holds only those): the
    /// providers folder and the provider credentials folder (`provider_credentials`), when set.
    public static func adminAPI(providersFolder: String?, credentialsFolder: String?) -> ProviderFileAccess {
        .within([providersFolder, credentialsFolder].compactMap { $0 })
    }
}

/// Turns a path a provider file names into the one read: relative to the file's folder, and checked against the
/// definition's `ProviderFileAccess`.
struct ProviderFileResolver {
    let base: String
    let access: ProviderFileAccess

    /// The resolved path `key` names, nil when it is absent (and not `required`).
    func path(of key: String, in fields: YAMLFields, required: Bool = false) throws(ConfigurationError) -> String? {
        guard let path = try fields.string(key, required: required) else { return nil }
        let resolved = path.hasPrefix("/") || base.isEmpty ? path : (base as NSString).appendingPathComponent(path)
        guard case .within(let folders) = access else { return resolved }
        // A path that does not exist is checked as written (so an error does not tell whether a file outside
        // exists), and inside, refused as unreadable by what reads it.
        let real = Self.realPath(resolved) ?? (resolved as NSString).standardizingPath
        let allowed = folders.compactMap(Self.realPath).contains { folder in
            real.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
        }
        guard allowed else {
            let places = folders.isEmpty ? "no folder is allowed" : "allowed: " + folders.joined(separator: ", ")
            throw fields.error(key, "\(path) is outside the folders a provider registered through the admin API may name (\(places))")
        }
        return real
    }

    /// The canonical path (symbolic links and `.`/`..` resolved); nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
