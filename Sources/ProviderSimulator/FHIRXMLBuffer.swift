import CareRecords
import XMLSupport

/// Writes FHIR R4 XML straight into a byte buffer. FHIR puts every primitive in a `value` attribute, so the writer
/// needs only elements and escaped attribute values; building bytes directly keeps a 20 KB bundle well under a
/// millisecond and needs no XML library.
///
/// Callers are responsible for element order, which the FHIR schema fixes per type (see each resource writer).
struct FHIRXMLBuffer {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 16 * 1024) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// `<name>` (or `<name xmlns="…">`).
    mutating func open(_ name: String, namespace: String? = nil) {
        bytes.append(UInt8(ascii: "<"))
        raw(name)
        if let namespace {
            raw(" xmlns=\"")
            escape(namespace)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: ">"))
    }

    mutating func close(_ name: String) {
        raw("</")
        raw(name)
        bytes.append(UInt8(ascii: ">"))
    }

    /// `<name value="…"/>`, the form of every FHIR primitive.
    mutating func value(_ name: String, _ value: String) {
        bytes.append(UInt8(ascii: "<"))
        raw(name)
        raw(" value=\"")
        escape(value)
        raw("\"/>")
    }

    mutating func value(_ name: String, _ value: String?) {
        if let value { self.value(name, value) }
    }

    mutating func element(_ name: String, _ body: (inout FHIRXMLBuffer) -> Void) {
        open(name)
        body(&self)
        close(name)
    }

    /// Escapes text for a double-quoted attribute (see `XMLEscaping`).
    mutating func escape(_ text: String) {
        XMLEscaping.appendAttributeValue(text, to: &bytes)
    }
}

// MARK: FHIR data types, each in the schema's element order.

extension FHIRXMLBuffer {
    /// Coding: system, version, code, display, userSelected.
    mutating func coding(_ coding: Coding) {
        self.coding("coding", coding)
    }

    mutating func coding(_ name: String, _ coding: Coding) {
        element(name) {
            $0.value("system", coding.system)
            $0.value("code", coding.code)
            $0.value("display", coding.display)
        }
    }

    mutating func coding(_ name: String = "coding", system: String, code: String, display: String? = nil) {
        coding(name, Coding(system: system, code: code, display: display))
    }

    /// CodeableConcept: coding*, text.
    mutating func codeableConcept(_ name: String, _ coding: Coding, text: String? = nil) {
        element(name) {
            $0.coding(coding)
            $0.value("text", text ?? coding.display)
        }
    }

    mutating func codeableConcept(_ name: String, system: String, code: String, display: String? = nil) {
        codeableConcept(name, Coding(system: system, code: code, display: display))
    }

    /// Reference: reference, type, identifier, display.
    mutating func reference(_ name: String, _ reference: String? = nil, display: String? = nil) {
        element(name) {
            $0.value("reference", reference)
            $0.value("display", display)
        }
    }

    /// Identifier: use, type, system, value, period, assigner.
    mutating func identifier(_ identifier: EntryIdentifier) {
        self.identifier("identifier", identifier)
    }

    mutating func identifier(_ name: String, _ identifier: EntryIdentifier) {
        element(name) {
            $0.value("system", identifier.system)
            $0.value("value", identifier.value)
        }
    }

    /// Quantity with a UCUM unit: value, comparator, unit, system, code.
    mutating func quantity(_ name: String, value: String, unit: String) {
        element(name) {
            $0.value("value", value)
            $0.value("unit", unit)
            $0.value("system", "http://unitsofmeasure.org")
            $0.value("code", unit)
        }
    }

    /// Period: start, end.
    mutating func period(_ name: String = "period", start: String?, end: String?) {
        element(name) {
            $0.value("start", start)
            $0.value("end", end)
        }
    }

    /// The elements every resource starts with (Resource.id; no meta, text or extensions here).
    mutating func resourceID(_ id: String) {
        value("id", id)
    }
}
