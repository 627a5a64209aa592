import XMLSupport

/// What references inside one FHIR document can reach: resources `contained` in the referring resource
/// (`#id`), and the other resources of the same Bundle (by `fullUrl`, or by `Type/id`).
///
/// Only the document itself is searched: a decoder is pure and never fetches a reference.
///
/// Built on the first Bundle lookup, not up front: most documents resolve no reference at all (only
/// `medicationReference` is followed), and making every resource's `Type/id` key costs more than reading it.
/// A class so that the resources of one document share the one index; it lives for one decode, on one task.
final class FHIRReferenceIndex {
    private let resources: [FHIRDocumentResource]
    private lazy var bundleResources: [String: XMLElement] = {
        var index: [String: XMLElement] = [:]
        for resource in resources {
            guard let element = resource.element else { continue }
            // The first wins, so a duplicate fullUrl or id later in a Bundle cannot redirect a reference.
            if let fullUrl = resource.fullUrl, index[fullUrl] == nil {
                index[fullUrl] = element
            }
            if let id = element.fhirValue("id") {
                let key = element.name + "/" + id
                if index[key] == nil { index[key] = element }
            }
        }
        return index
    }()

    init(_ resources: [FHIRDocumentResource]) {
        self.resources = resources
    }

    /// The resource `reference` points at, looked up among `resource`'s contained resources for a local
    /// reference (`#id`), else among the Bundle's resources (exact match, then the trailing `Type/id` of an
    /// absolute URL).
    func resolve(_ reference: String, from resource: XMLElement) -> XMLElement? {
        if reference.hasPrefix("#") {
            let id = String(reference.dropFirst())
            for contained in resource.children("contained") {
                if let target = contained.children.first, target.fhirValue("id") == id {
                    return target
                }
            }
            return nil
        }
        if let target = bundleResources[reference] { return target }
        let components = reference.split(separator: "/")
        guard components.count >= 2 else { return nil }
        return bundleResources[components.suffix(2).joined(separator: "/")]
    }
}

/// One resource of a document, as found: a Bundle entry's resource (with its `fullUrl`), or the root itself.
struct FHIRDocumentResource {
    /// The Bundle entry holding it; nil for a document that is the resource itself.
    var entry: XMLElement?
    /// Nil when a Bundle entry has a `<resource>` wrapper with nothing in it.
    var element: XMLElement?

    /// The entry's `fullUrl`, read only when asked for: most resources are found by their own id.
    var fullUrl: String? { entry?.fhirValue("fullUrl") }
}
