#!/usr/bin/env python3
"""CareGate peer: a reference gateway in Python, for the side-by-side benchmark (issue #7).

The same job as CareGate's `GET /v1/patients/{nhs}/record`, written the way a team would write it in Python:
asyncio + aiohttp (server and one shared client session), lxml for XML and XPath, PyYAML for the provider
files, PyJWT for the bearer token. It reads the same provider files, asks the same providers, decodes their
formats with the same rules (FHIR R4 XML, HL7 CDA R2, mapped XML through the YAML mapping files) and merges with
the same rules (`Sources/RecordMerge`), so that the two can be compared on the same closed-loop scenario.

Deliberately not here (see README.md): role policy and sensitive-code withholding, opt-outs, audit, break-glass,
circuit breakers, retries, hedging, metrics, FHIR output. JWT verification is here.

    python peer_gateway.py --providers DIR --port PORT --jwks FILE --issuer ISS --audience AUD [--host H]
                           [--deadline-ms 2000] [--workers 1]

Prints `peer listening on PORT` once every worker is serving.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlsplit

import aiohttp
import jwt
import yaml
from aiohttp import web
from lxml import etree

# ----------------------------------------------------------------------------------------------------------------
# Care records: the normalised model (Sources/CareRecords)
# ----------------------------------------------------------------------------------------------------------------

CATEGORIES = [
    "appointment", "encounter", "medication", "allergy", "test-result", "observation", "document", "care-plan",
    "condition", "immunisation",
]
CATEGORY_ORDER = {name: index for index, name in enumerate(CATEGORIES)}

SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
LOINC = "http://loinc.org"


@dataclass(slots=True)
class Coding:
    system: Optional[str] = None
    code: Optional[str] = None
    display: Optional[str] = None

    def to_json(self) -> dict:
        return {k: v for k, v in (("system", self.system), ("code", self.code), ("display", self.display)) if v is not None}


@dataclass(slots=True)
class Quantity:
    value: str
    unit: Optional[str] = None

    def to_json(self) -> dict:
        return {"value": self.value} if self.unit is None else {"value": self.value, "unit": self.unit}


YEAR, MONTH, DAY, TIME = 0, 1, 2, 3

_ISO_DATE = re.compile(
    r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?"
    r"(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))?)?)?)?"
)


def _is_leap(year: int) -> bool:
    return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01, proleptic Gregorian (Howard Hinnant's algorithm, with C-style division)."""
    y = year - 1 if month <= 2 else year
    era = (y if y >= 0 else y - 399) // 400
    year_of_era = y - era * 400
    month_index = month - 3 if month > 2 else month + 9
    day_of_year = (153 * month_index + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


@dataclass(slots=True, frozen=True)
class ClinicalDate:
    """An ISO 8601 date or date-time as a provider sent it, possibly partial (`2024`, `2024-03`, …)."""

    text: str
    precision: int
    sort_key: int  # seconds since 1970 UTC of the earliest instant the text can mean
    day: Optional[str]  # YYYY-MM-DD as written, when at least day precision

    @staticmethod
    def parse(text: Optional[str]) -> Optional["ClinicalDate"]:
        if text is None:
            return None
        match = _ISO_DATE.fullmatch(text)
        if match is None:
            return None
        year_text, month_text, day_text, hour_text, minute_text, second_text, zulu, sign, off_h, off_m = match.groups()
        year = int(year_text)
        month = day = 1
        hour = minute = second = offset = 0
        precision = YEAR
        if month_text is not None:
            month = int(month_text)
            if not 1 <= month <= 12:
                return None
            precision = MONTH
            if day_text is not None:
                day = int(day_text)
                if not 1 <= day <= _days_in(month, year):
                    return None
                precision = DAY
                if hour_text is not None:
                    hour, minute = int(hour_text), int(minute_text)
                    if hour >= 24 or minute >= 60:
                        return None
                    if second_text is not None:
                        second = int(second_text)
                        if second > 60:
                            return None
                        second = min(second, 59)
                    precision = TIME
                    if sign is not None:
                        oh, om = int(off_h), int(off_m)
                        if oh > 14 or om >= 60:
                            return None
                        offset = (-1 if sign == "-" else 1) * (oh * 3600 + om * 60)
        days = _days_from_civil(year, month, day)
        return ClinicalDate(
            text=text, precision=precision,
            sort_key=days * 86_400 + hour * 3600 + minute * 60 + second - offset,
            day=text[:10] if precision >= DAY else None)


_HL7_TS = re.compile(
    r"([0-9]{4})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:\.[0-9]+)?)?)?)?)?)?"
    r"(?:([+-])([0-9]{2})([0-9]{2}))?"
)


def hl7_timestamp(text: Optional[str]) -> Optional[ClinicalDate]:
    """An HL7 v3 TS (`YYYYMMDDHHMMSS.S+ZZZZ`, any tail omitted) as the ISO date CareGate makes of it."""
    if text is None:
        return None
    text = text.strip()
    match = _HL7_TS.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, zone_h, zone_m = match.groups()
    iso = year
    has_time = False
    if month is not None:
        iso += "-" + month
        if day is not None:
            iso += "-" + day
            if hour is not None:
                has_time = True
                if minute is not None:
                    iso += f"T{hour}:{minute}"
                    if second is not None:
                        iso += ":" + second
                else:
                    iso += f"T{hour}:00"
    if sign is not None and has_time:
        iso += f"{sign}{zone_h}:{zone_m}"
    return ClinicalDate.parse(iso)


def first_date(*candidates: Optional[str]) -> Optional[ClinicalDate]:
    for text in candidates:
        if text is not None:
            date = ClinicalDate.parse(text)
            if date is not None:
                return date
    return None


@dataclass(slots=True)
class CareEntry:
    category: str
    code: Optional[Coding]
    date: Optional[ClinicalDate]
    summary: str
    status: Optional[str]
    value: Optional[Quantity]
    dose: Optional[str]
    identifiers: list  # of (system, value)
    source: tuple  # (provider, id)
    administered: bool = False  # a dose given once, at `date` (a mapping rule's `administered: true`)

    def __post_init__(self):
        # Every status as a code (CareEntry.statusCode), whatever the format.
        if self.status is not None:
            self.status = status_code(self.status)


def uniqued(items):
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def nhs_number(text: str) -> Optional[str]:
    """Ten digits with a valid modulus-11 check digit (spaces and hyphens allowed), as plain digits; else None."""
    digits = []
    for ch in text:
        if "0" <= ch <= "9":
            digits.append(ord(ch) - 48)
        elif ch in " -":
            continue
        else:
            return None
        if len(digits) > 10:
            return None
    if len(digits) != 10:
        return None
    check = 11 - sum(d * (10 - i) for i, d in enumerate(digits[:9])) % 11
    if check == 11:
        check = 0
    if check == 10 or check != digits[9]:
        return None
    return "".join(map(str, digits))


def trimmed(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    text = text.strip()
    return text or None


def local_name(element) -> str:
    return element.tag.rpartition("}")[2]


def element_children(element):
    return [child for child in element if isinstance(child.tag, str)]


class DecodeError(Exception):
    pass


# Untrusted XML: no network, no entity expansion, no DTD (refused below), no huge trees.
def make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
        remove_pis=True)


_parser = make_parser()


def parse_xml(body: bytes):
    if not body.strip():
        raise DecodeError("xml-empty")
    try:
        root = etree.fromstring(body, _parser)
    except etree.XMLSyntaxError as error:
        raise DecodeError(f"not well-formed XML (line {error.lineno})") from None
    if root.getroottree().docinfo.doctype:
        raise DecodeError("DOCTYPE not allowed")
    return root


# ----------------------------------------------------------------------------------------------------------------
# FHIR R4 XML (Sources/ProviderFormats/FHIR*.swift)
# ----------------------------------------------------------------------------------------------------------------

FHIR_NS = "http://hl7.org/fhir"
F = "{" + FHIR_NS + "}"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"


def fv(element, name: str) -> Optional[str]:
    """The trimmed `value` attribute of the first FHIR child with this name."""
    child = element.find(F + name)
    return None if child is None else trimmed(child.get("value"))


def fv_at(element, *path: str) -> Optional[str]:
    for name in path:
        element = element.find(F + name)
        if element is None:
            return None
    return trimmed(element.get("value"))


def fhir_coding(element) -> Optional[Coding]:
    code = fv(element, "code")
    display = fv(element, "display")
    if code is None and display is None:
        return None
    return Coding(fv(element, "system"), code, display)


PREFERRED_SYSTEMS = (SNOMED, DMD, LOINC)


def best_coding(concept) -> Optional[Coding]:
    """A CodeableConcept's coding other providers most likely share: SNOMED CT, dm+d, LOINC, else the first."""
    if concept is None:
        return None
    codings = [c for c in map(fhir_coding, concept.iterfind(F + "coding")) if c is not None]
    text = fv(concept, "text")
    chosen = None
    for system in PREFERRED_SYSTEMS:
        chosen = next((c for c in codings if c.system == system and c.code is not None), None)
        if chosen is not None:
            break
    if chosen is None:
        chosen = codings[0] if codings else None
    if chosen is None:
        return Coding(display=text) if text is not None else None
    if chosen.display is None:
        chosen.display = text
    return chosen


def codeable_concept(element, name: str) -> Optional[Coding]:
    return best_coding(element.find(F + name))


def fhir_quantity(element) -> Optional[Quantity]:
    if element is None:
        return None
    value = fv(element, "value")
    if value is None:
        return None
    unit = fv(element, "unit")
    return Quantity(value, unit if unit is not None else fv(element, "code"))


def fhir_identifier(element) -> Optional[tuple]:
    system, value = fv(element, "system"), fv(element, "value")
    return None if system is None or value is None else (system, value)


def fhir_identifiers(element) -> list:
    return [i for i in map(fhir_identifier, element.iterfind(F + "identifier")) if i is not None]


class FHIRResource:
    """One resource being read, with what its references can reach."""

    __slots__ = ("element", "type", "source", "index")

    def __init__(self, element, source: tuple, index: dict):
        self.element = element
        self.type = local_name(element)
        self.source = source
        self.index = index

    def read(self) -> tuple:
        """('entry', CareEntry) | ('unreadable', None) | ('ignored', None)."""
        reader = self.READERS.get(self.type)
        if reader is None:
            return ("ignored", None)  # Patient's demographics are not part of the JSON view
        entry = reader(self)
        return ("unreadable", None) if entry is None else ("entry", entry)

    def resolve(self, reference_name: str):
        reference = fv_at(self.element, reference_name, "reference")
        if reference is None:
            return None
        if reference.startswith("#"):
            wanted = reference[1:]
            for contained in self.element.iterfind(F + "contained"):
                children = element_children(contained)
                if children and fv(children[0], "id") == wanted:
                    return children[0]
            return None
        target = self.index.get(reference)
        if target is not None:
            return target
        parts = [p for p in reference.split("/") if p]
        if len(parts) < 2:
            return None
        return self.index.get("/".join(parts[-2:]))

    def entry(self, category, code, date, summary, status, value=None, dose=None, identifiers=()):
        if code is None and date is None and summary is None and value is None and dose is None:
            return None
        if summary is None:
            summary = code.display if code is not None and code.display is not None else self.type
        return CareEntry(
            category, code, date, marking(summary, status), status, value, dose,
            list(identifiers) + fhir_identifiers(self.element), self.source)

    def summary(self, headline, details=()):
        details = [d for d in details if d is not None]
        if not details:
            return headline
        return (headline if headline is not None else self.type) + " — " + "; ".join(details)

    # AllergyIntolerance, Condition, Immunization, CarePlan

    def clinical_status(self):
        verification = best_coding(self.element.find(F + "verificationStatus"))
        if verification is not None and verification.code in ("entered-in-error", "refuted"):
            return verification.code
        status = best_coding(self.element.find(F + "clinicalStatus"))
        return None if status is None else status.code

    def allergy(self):
        e = self.element
        code = codeable_concept(e, "code")
        reactions = uniqued(
            c.display for reaction in e.iterfind(F + "reaction") for m in reaction.iterfind(F + "manifestation")
            if (c := best_coding(m)) is not None and c.display is not None)
        headline = None
        if code is not None and code.display is not None:
            lowered = code.display.lower()
            if "allerg" in lowered or "intoleran" in lowered:
                headline = code.display
            else:
                headline = code.display + (" intolerance" if fv(e, "type") == "intolerance" else " allergy")
        criticality = fv(e, "criticality")
        return self.entry(
            "allergy", code, first_date(fv(e, "recordedDate"), fv(e, "onsetDateTime")),
            self.summary(headline, [
                "reaction: " + ", ".join(reactions) if reactions else None,
                f"criticality: {criticality}" if criticality is not None else None]),
            self.clinical_status())

    def condition(self):
        e = self.element
        return self.entry(
            "condition", codeable_concept(e, "code"),
            first_date(fv(e, "onsetDateTime"), fv_at(e, "onsetPeriod", "start"), fv(e, "recordedDate")),
            None, self.clinical_status())

    def immunization(self):
        e = self.element
        code = codeable_concept(e, "vaccineCode")
        dose_number = None
        for applied in e.iterfind(F + "protocolApplied"):
            dose_number = fv(applied, "doseNumberPositiveInt") or fv(applied, "doseNumberString")
            if dose_number is not None:
                break
        status = fv(e, "status")
        not_given = None
        if status == "not-done":
            reason = codeable_concept(e, "statusReason")
            not_given = "not given" + (f": {reason.display}" if reason is not None and reason.display else "")
        return self.entry(
            "immunisation", code, first_date(fv(e, "occurrenceDateTime")),
            self.summary(code.display if code else None,
                         [not_given, f"dose {dose_number}" if dose_number is not None else None]),
            status)

    def care_plan(self):
        e = self.element
        title = fv(e, "title")
        return self.entry(
            "care-plan", best_coding(e.find(F + "category")),
            first_date(fv_at(e, "period", "start"), fv(e, "created")),
            title if title is not None else fv(e, "description"), fv(e, "status"))

    # DocumentReference

    def document_reference(self):
        e = self.element
        code = codeable_concept(e, "type")
        headline = fv(e, "description")
        if headline is None and code is not None:
            headline = code.display
        titles = uniqued(
            t for content in e.iterfind(F + "content")
            if (attachment := content.find(F + "attachment")) is not None
            and (t := fv(attachment, "title")) is not None and t != headline)
        master = e.find(F + "masterIdentifier")
        master_id = fhir_identifier(master) if master is not None else None
        status = fv(e, "docStatus")
        return self.entry(
            "document", code, first_date(fv(e, "date"), fv_at(e, "context", "period", "start")),
            self.summary(headline, [", ".join(titles) if titles else None]),
            status if status is not None else fv(e, "status"),
            identifiers=[master_id] if master_id is not None else [])

    # MedicationStatement, MedicationRequest

    def medicine(self):
        e = self.element
        concept = codeable_concept(e, "medicationCodeableConcept")
        if concept is not None:
            return concept
        medication = self.resolve("medicationReference")
        if medication is not None:
            code = codeable_concept(medication, "code")
            if code is not None:
                return code
        display = fv_at(e, "medicationReference", "display")
        return Coding(display=display) if display is not None else None

    def medication_statement(self):
        e = self.element
        medicine = self.medicine()
        dosage = e.find(F + "dosage")
        dose = fv(dosage, "text") if dosage is not None else None
        return self.entry(
            "medication", medicine,
            first_date(fv_at(e, "effectivePeriod", "start"), fv(e, "effectiveDateTime"), fv(e, "dateAsserted")),
            self.summary(medicine.display if medicine else None, [dose]), fv(e, "status"), dose=dose)

    def medication_request(self):
        e = self.element
        medicine = self.medicine()
        dosage = e.find(F + "dosageInstruction")
        dose = fv(dosage, "text") if dosage is not None else None
        return self.entry(
            "medication", medicine, first_date(fv(e, "authoredOn")),
            self.summary(medicine.display if medicine else None, [dose]), fv(e, "status"), dose=dose)

    # Observation, DiagnosticReport

    @staticmethod
    def value_text(element) -> Optional[str]:
        quantity = fhir_quantity(element.find(F + "valueQuantity"))
        if quantity is not None:
            return " ".join(p for p in (quantity.value, quantity.unit) if p is not None)
        concept = codeable_concept(element, "valueCodeableConcept")
        if concept is not None:
            return concept.display if concept.display is not None else concept.code
        boolean = fv(element, "valueBoolean")
        if boolean is not None:
            return "yes" if boolean == "true" else "no"
        text = fv(element, "valueString")
        return text if text is not None else fv(element, "valueInteger")

    def observation(self):
        e = self.element
        code = codeable_concept(e, "code")
        laboratory = any(
            fv(coding, "code") == "laboratory"
            and (fv(coding, "system") or OBSERVATION_CATEGORY_SYSTEM) == OBSERVATION_CATEGORY_SYSTEM
            for category in e.iterfind(F + "category") for coding in category.iterfind(F + "coding"))
        value = fhir_quantity(e.find(F + "valueQuantity"))
        if value is None:
            integer = fv(e, "valueInteger")
            value = Quantity(integer) if integer is not None else None
        result = self.value_text(e)
        if result is None:
            parts = []
            for component in e.iterfind(F + "component"):
                text = self.value_text(component)
                if text is None:
                    continue
                name = codeable_concept(component, "code")
                parts.append(f"{name.display} {text}" if name is not None and name.display is not None else text)
            result = ", ".join(parts) if parts else None
        if result is None:
            reason = codeable_concept(e, "dataAbsentReason")
            if reason is not None:
                words = reason.display if reason.display is not None else reason.code
                result = f"no value ({words})" if words is not None else None
        name = code.display if code is not None and code.display is not None else self.type
        return self.entry(
            "test-result" if laboratory else "observation", code,
            first_date(fv(e, "effectiveDateTime"), fv_at(e, "effectivePeriod", "start"), fv(e, "effectiveInstant"),
                       fv(e, "issued")),
            f"{name}: {result}" if result is not None else None, fv(e, "status"), value=value)

    def diagnostic_report(self):
        e = self.element
        code = codeable_concept(e, "code")
        return self.entry(
            "test-result", code,
            first_date(fv(e, "effectiveDateTime"), fv_at(e, "effectivePeriod", "start"), fv(e, "issued")),
            self.summary(code.display if code else None, [fv(e, "conclusion")]), fv(e, "status"))

    # Encounter, Appointment

    def encounter(self):
        e = self.element
        encounter_type = codeable_concept(e, "type")
        service_type = codeable_concept(e, "serviceType")
        class_element = e.find(F + "class")
        encounter_class = fhir_coding(class_element) if class_element is not None else None
        code = encounter_type or service_type or encounter_class
        named = encounter_type or service_type
        headline = named.display if named is not None else None
        if encounter_class is not None and encounter_class.display is not None:
            class_display = encounter_class.display
            if headline is None:
                headline = class_display
            elif headline != class_display:
                headline = f"{headline} ({class_display})"
        reasons = uniqued(
            c.display for r in e.iterfind(F + "reasonCode") if (c := best_coding(r)) is not None and c.display is not None)
        return self.entry(
            "encounter", code, first_date(fv_at(e, "period", "start")),
            self.summary(headline, ["reason: " + ", ".join(reasons) if reasons else None]), fv(e, "status"))

    def appointment(self):
        e = self.element
        code = (codeable_concept(e, "serviceType") or codeable_concept(e, "appointmentType")
                or codeable_concept(e, "serviceCategory"))
        return self.entry(
            "appointment", code, first_date(fv(e, "start")), fv(e, "description"), fv(e, "status"))

    READERS: dict = {}


FHIRResource.READERS = {
    "AllergyIntolerance": FHIRResource.allergy,
    "MedicationStatement": FHIRResource.medication_statement,
    "MedicationRequest": FHIRResource.medication_request,
    "Observation": FHIRResource.observation,
    "DiagnosticReport": FHIRResource.diagnostic_report,
    "Encounter": FHIRResource.encounter,
    "Appointment": FHIRResource.appointment,
    "DocumentReference": FHIRResource.document_reference,
    "CarePlan": FHIRResource.care_plan,
    "Condition": FHIRResource.condition,
    "Immunization": FHIRResource.immunization,
}


def decode_fhir(body: bytes, provider: str) -> list:
    root = parse_xml(body)
    root_name = local_name(root)
    if etree.QName(root).namespace != FHIR_NS or not root_name[:1].isupper():
        raise DecodeError(f"root element is not a FHIR Bundle or resource in namespace {FHIR_NS}")
    if root_name == "Bundle":
        resources = []
        for entry in root.iterfind(F + "entry"):
            wrapper = entry.find(F + "resource")
            if wrapper is None:
                continue
            children = element_children(wrapper)
            resources.append((fv(entry, "fullUrl"), children[0] if children else None))
    else:
        resources = [(None, root)]

    index = {}
    for full_url, element in resources:
        if element is None:
            continue
        if full_url is not None:
            index.setdefault(full_url, element)
        resource_id = fv(element, "id")
        if resource_id is not None:
            index.setdefault(f"{local_name(element)}/{resource_id}", element)

    entries = []
    for offset, (full_url, element) in enumerate(resources):
        if element is None:
            continue
        resource_id = fv(element, "id") or full_url or f"#{offset + 1}"
        kind, entry = FHIRResource(element, (provider, resource_id), index).read()
        if kind == "entry":
            entries.append(entry)
    return entries


# ----------------------------------------------------------------------------------------------------------------
# HL7 CDA R2 (Sources/ProviderFormats/CDA*.swift)
# ----------------------------------------------------------------------------------------------------------------

CDA_NS = "urn:hl7-org:v3"
H = "{" + CDA_NS + "}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
NHS_NUMBER_OID = "2.16.840.1.113883.2.1.4.1"

OID_LOINC = "2.16.840.1.113883.6.1"
OID_SNOMED = "2.16.840.1.113883.6.96"
OID_NHS_SNOMED = "2.16.840.1.113883.2.1.3.2.4.15"
OID_DMD = "1.2.826.0.1285.0.2.0.4"
OID_URIS = {
    OID_LOINC: LOINC, OID_SNOMED: SNOMED, OID_NHS_SNOMED: SNOMED, OID_DMD: DMD,
    "2.16.840.1.113883.6.88": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "2.16.840.1.113883.6.3": "http://hl7.org/fhir/sid/icd-10",
    "2.16.840.1.113883.6.90": "http://hl7.org/fhir/sid/icd-10-cm",
    "2.16.840.1.113883.6.12": "http://www.ama-assn.org/go/cpt",
    "2.16.840.1.113883.12.292": "http://hl7.org/fhir/sid/cvx",
    "2.16.840.1.113883.5.4": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
}
SHARED_SYSTEMS = {SNOMED, DMD, LOINC}


def oid_uri(oid: str, medicine: bool = False) -> str:
    if medicine and oid == OID_NHS_SNOMED:
        return DMD
    return OID_URIS.get(oid) or "urn:oid:" + oid


# C-CDA's status observation values (SNOMED CT) as FHIR clinical status codes.
CLINICAL_STATUSES = {"55561003": "active", "73425007": "inactive", "413322009": "resolved"}


def cda(element, name):
    return element.find(H + name)


def cda_children(element, name):
    return element.findall(H + name)


def cda_at(element, *path):
    for name in path:
        if element is None:
            return None
        element = element.find(H + name)
    return element


def attr(element, name) -> Optional[str]:
    return trimmed(element.get(name))


def null_flavored(element) -> bool:
    return element.get("nullFlavor") is not None


def cda_code(element, name) -> Optional[str]:
    child = cda(element, name)
    if child is None or null_flavored(child):
        return None
    return attr(child, "code")


def _words(element) -> Optional[list]:
    """Own words then children's; None for mixed content (order would be lost, as in CareGate)."""
    own_text = (element.text or "") + "".join(child.tail or "" for child in element)
    own = own_text.split()
    child_words = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        words = _words(child)
        if words is None:
            return None
        child_words += words
    if own and child_words:
        return None
    return own + child_words


def plain_text(element) -> Optional[str]:
    if element is None:
        return None
    words = _words(element)
    return " ".join(words) if words else None


def timestamp(element) -> Optional[ClinicalDate]:
    if element is None or null_flavored(element):
        return None
    value = attr(element, "value")
    if value is not None:
        return hl7_timestamp(value)
    for bound in ("low", "center"):
        child = cda(element, bound)
        if child is not None and not null_flavored(child):
            value = attr(child, "value")
            if value is not None:
                return hl7_timestamp(value)
    return None


def effective_date(element) -> Optional[ClinicalDate]:
    for time_element in cda_children(element, "effectiveTime"):
        if cda(time_element, "period") is None:
            date = timestamp(time_element)
            if date is not None:
                return date
    return None


def physical_quantity(element) -> Optional[Quantity]:
    if element is None or null_flavored(element):
        return None
    value = attr(element, "value")
    return None if value is None else Quantity(value, attr(element, "unit"))


def xsi_type(element) -> Optional[str]:
    value = trimmed(element.get(XSI_TYPE))
    return None if value is None else value.split(":")[-1].upper()


def instance_identifier(element) -> Optional[tuple]:
    """(root, extension) of an II, or None."""
    if null_flavored(element):
        return None
    root = attr(element, "root")
    return None if root is None else (root, attr(element, "extension"))


def instance_identifiers(element) -> list:
    return [i for i in map(instance_identifier, cda_children(element, "id")) if i is not None]


def ii_key(ii: tuple) -> str:
    root, extension = ii
    return root if extension is None else f"{root}^{extension}"


_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def ii_entry_identifier(ii: tuple) -> tuple:
    root, extension = ii
    if _UUID.fullmatch(root):
        uuid = "urn:uuid:" + root.lower()
        return (uuid, extension) if extension is not None else ("urn:ietf:rfc:3986", uuid)
    return ("urn:oid:" + root, extension if extension is not None else root)


def has_template(element, root: str) -> bool:
    return any(attr(t, "root") == root for t in cda_children(element, "templateId"))


class Narrative:
    """A section's `text`, indexed by `ID`, through which entries reference their words."""

    __slots__ = ("by_id",)

    def __init__(self, text_element):
        self.by_id = {}
        if text_element is not None:
            for element in text_element.iter(tag=etree.Element):
                identifier = attr(element, "ID")
                if identifier is not None and identifier not in self.by_id:
                    self.by_id[identifier] = element

    def words(self, element) -> Optional[str]:
        if element is None or null_flavored(element):
            return None
        own = plain_text(element)
        if own is not None:
            return own
        reference = cda(element, "reference")
        return self.text(attr(reference, "value") if reference is not None else None)

    def text(self, reference: Optional[str]) -> Optional[str]:
        if reference is None or not reference.startswith("#"):
            return None
        return plain_text(self.by_id.get(reference[1:]))


def _own_coding(element, medicine: bool) -> Optional[Coding]:
    if null_flavored(element):
        return None
    code = attr(element, "code")
    if code is None:
        return None
    system = attr(element, "codeSystem")
    return Coding(oid_uri(system, medicine) if system is not None else None, code, attr(element, "displayName"))


def cda_coding(element, medicine: bool = False, narrative: Optional[Narrative] = None) -> Optional[Coding]:
    if element is None:
        return None
    candidates = [c for c in (_own_coding(e, medicine) for e in [element] + cda_children(element, "translation"))
                  if c is not None]
    chosen = next((c for c in candidates if (c.system or "") in SHARED_SYSTEMS), None)
    if chosen is None and candidates:
        chosen = candidates[0]
    display = chosen.display if chosen is not None else None
    if display is None:
        display = attr(element, "displayName")
    if display is None:
        original = cda(element, "originalText")
        display = narrative.words(original) if narrative is not None else None
        if display is None:
            display = plain_text(original)
    if chosen is None:
        return Coding(display=display) if display is not None else None
    chosen.display = display
    return chosen


SECTION_BY_TEMPLATE = {
    "2.16.840.1.113883.10.20.22.2.1": "medications", "2.16.840.1.113883.10.20.22.2.1.1": "medications",
    "2.16.840.1.113883.10.20.22.2.11": "medications", "2.16.840.1.113883.10.20.22.2.11.1": "medications",
    "2.16.840.1.113883.10.20.22.2.44": "medications",
    "2.16.840.1.113883.10.20.22.2.6": "allergies", "2.16.840.1.113883.10.20.22.2.6.1": "allergies",
    "2.16.840.1.113883.10.20.22.2.5": "problems", "2.16.840.1.113883.10.20.22.2.5.1": "problems",
    "2.16.840.1.113883.10.20.22.2.24": "problems", "2.16.840.1.113883.10.20.22.2.43": "problems",
    "2.16.840.1.113883.10.20.22.2.3": "results", "2.16.840.1.113883.10.20.22.2.3.1": "results",
    "2.16.840.1.113883.10.20.22.2.4": "vital-signs", "2.16.840.1.113883.10.20.22.2.4.1": "vital-signs",
    "2.16.840.1.113883.10.20.22.2.2": "immunisations", "2.16.840.1.113883.10.20.22.2.2.1": "immunisations",
}
SECTION_BY_LOINC = {
    "10160-0": "medications", "10183-2": "medications", "75311-1": "medications", "42346-7": "medications",
    "48765-2": "allergies", "11450-4": "problems", "11535-2": "problems", "46241-6": "problems",
    "30954-2": "results", "8716-3": "vital-signs", "11369-6": "immunisations",
}
SUPPORTING_TEMPLATES = {
    "2.16.840.1.113883.10.20.22.4.5", "2.16.840.1.113883.10.20.22.4.6", "2.16.840.1.113883.10.20.22.4.8",
    "2.16.840.1.113883.10.20.22.4.9", "2.16.840.1.113883.10.20.22.4.28", "2.16.840.1.113883.10.20.22.4.145",
}


def section_kind(section) -> Optional[str]:
    for template in cda_children(section, "templateId"):
        kind = SECTION_BY_TEMPLATE.get(attr(template, "root"))
        if kind is not None:
            return kind
    code = cda(section, "code")
    if code is None or null_flavored(code):
        return None
    value = attr(code, "code")
    if value is None or (attr(code, "codeSystem") or OID_LOINC) != OID_LOINC:
        return None
    return SECTION_BY_LOINC.get(value)


def readable_sections(document) -> list:
    """(kind, section, narrative) for every section CareGate reads, nested ones included, in document order."""
    found = []

    def visit(section):
        kind = section_kind(section)
        if kind is not None:
            found.append((kind, section, Narrative(cda(section, "text"))))
        for component in cda_children(section, "component"):
            inner = cda(component, "section")
            if inner is not None:
                visit(inner)

    body = cda_at(document, "component", "structuredBody")
    if body is not None:
        for component in cda_children(body, "component"):
            section = cda(component, "section")
            if section is not None:
                visit(section)
    return found


def is_supporting(observation) -> bool:
    if any(attr(t, "root") in SUPPORTING_TEMPLATES for t in cda_children(observation, "templateId")):
        return True
    return (cda_code(observation, "code") or "") in ("SEV", "33999-4", "82606-5")


def section_statements(kind: str, entry) -> list:
    """(statement, container) pairs of one section entry."""
    top = next((c for c in entry if isinstance(c.tag, str) and c.tag.startswith(H)), None)
    if top is None:
        return []
    wanted = "substanceAdministration" if kind in ("medications", "immunisations") else "observation"
    top_name = local_name(top)
    if top_name == wanted:
        # A vaccine only planned (moodCode other than EVN) is not one given.
        if kind == "immunisations" and top.get("moodCode") not in (None, "EVN"):
            return []
        return [(top, None)]
    if top_name == "act":
        inner = [s for r in cda_children(top, "entryRelationship") if r.get("inversionInd") != "true"
                 if (s := cda(r, wanted)) is not None and not is_supporting(s)]
    elif top_name == "organizer":
        inner = [s for c in cda_children(top, "component") if (s := cda(c, wanted)) is not None]
    else:
        inner = []
    return [(s, top) for s in inner]


def is_negated(element) -> bool:
    value = trimmed(element.get("negationInd"))
    return value is not None and value.lower() == "true"


def _summary(headline: str, details) -> str:
    details = [d for d in details if d is not None]
    return headline + " — " + "; ".join(details) if details else headline


def _severity(relationship) -> Optional[str]:
    observation = cda(relationship, "observation")
    if observation is None:
        return None
    if not (has_template(observation, "2.16.840.1.113883.10.20.22.4.8") or cda_code(observation, "code") == "SEV"):
        return None
    coding = cda_coding(cda(observation, "value"))
    return coding.display if coding is not None else None


def _coded_or_string(value, narrative: Narrative) -> Optional[str]:
    if null_flavored(value):
        return None
    kind = xsi_type(value)
    if kind in ("CD", "CE", "CV", "CO") or (
            kind is None and (value.get("code") is not None or value.get("displayName") is not None)):
        coding = cda_coding(value, narrative=narrative)
        if coding is None:
            return None
        return coding.display if coding.display is not None else coding.code
    if kind in ("ST", "ED", None):
        return plain_text(value)
    if kind == "BL":
        text = attr(value, "value")
        return {"true": "yes", "false": "no"}.get(text, text) if text is not None else None
    return None


class CDAStatement:
    __slots__ = ("element", "container", "kind", "narrative", "source", "identifiers")

    def __init__(self, element, container, kind, narrative, source, identifiers):
        self.element = element
        self.container = container
        self.kind = kind
        self.narrative = narrative
        self.source = source
        self.identifiers = identifiers

    def read(self) -> Optional[CareEntry]:
        if self.kind == "medications":
            return self.medication()
        if self.kind == "allergies":
            return self.allergy()
        if self.kind == "problems":
            return self.problem()
        if self.kind == "immunisations":
            return self.immunisation()
        return self.result("test-result" if self.kind == "results" else "observation")

    def entry(self, category, code, date, summary, status, value=None, dose=None) -> CareEntry:
        return CareEntry(category, code, date, summary, status, value, dose, list(self.identifiers), self.source)

    def date(self):
        date = effective_date(self.element)
        if date is None and self.container is not None:
            date = effective_date(self.container)
        return date

    def concern_status(self):
        # The status observation's value, else the concern act's status; never the observation's own statusCode.
        for relationship in cda_children(self.element, "entryRelationship"):
            observation = cda(relationship, "observation")
            if observation is None or not (
                    has_template(observation, "2.16.840.1.113883.10.20.22.4.28")
                    or has_template(observation, "2.16.840.1.113883.10.20.22.4.6")
                    or cda_code(observation, "code") == "33999-4"):
                continue
            stated = CLINICAL_STATUSES.get(cda_code(observation, "value"))
            if stated is not None:
                return stated
        if self.container is not None and local_name(self.container) == "act":
            return cda_code(self.container, "statusCode")
        return None

    def structured_dose(self):
        e = self.element
        quantity = physical_quantity(cda(e, "doseQuantity")) or physical_quantity(cda_at(e, "doseQuantity", "center"))
        amount = " ".join(p for p in (quantity.value, quantity.unit) if p is not None) if quantity else None
        period = None
        for time_element in cda_children(e, "effectiveTime"):
            period = physical_quantity(cda(time_element, "period"))
            if period is not None:
                break
        frequency = ("every " + " ".join(p for p in (period.value, period.unit) if p is not None)) if period else None
        parts = [p for p in (amount, frequency) if p is not None]
        return " ".join(parts) if parts else None

    def medication(self):
        e = self.element
        product = cda_at(e, "consumable", "manufacturedProduct")
        material = None
        if product is not None:
            material = cda(product, "manufacturedMaterial")
            if material is None:
                material = cda(product, "manufacturedLabeledDrug")
        medicine = cda_coding(cda(material, "code"), medicine=True, narrative=self.narrative) if material is not None else None
        if medicine is None or medicine.display is None:
            name = plain_text(cda(material, "name")) if material is not None else None
            if name is not None:
                medicine = Coding(medicine.system, medicine.code, name) if medicine is not None else Coding(display=name)
        dose = self.narrative.words(cda(e, "text")) or self.structured_dose()
        if medicine is None and dose is None:
            return None
        return self.entry(
            "medication", medicine, effective_date(e),
            _summary(medicine.display if medicine is not None and medicine.display is not None else "Medication", [dose]),
            cda_code(e, "statusCode"), dose=dose)

    def immunisation(self):
        e = self.element
        material = cda_at(e, "consumable", "manufacturedProduct", "manufacturedMaterial")
        vaccine = cda_coding(cda(material, "code"), narrative=self.narrative) if material is not None else None
        if vaccine is None or vaccine.display is None:
            name = plain_text(cda(material, "name")) if material is not None else None
            name = name if name is not None else self.narrative.words(cda(e, "text"))
            if name is not None:
                vaccine = Coding(vaccine.system, vaccine.code, name) if vaccine is not None else Coding(display=name)
        if vaccine is None:
            return None
        repeat = cda(e, "repeatNumber")
        number = attr(repeat, "value") if repeat is not None else None
        dose = f"dose {number}" if number is not None else None
        headline = vaccine.display if vaccine.display is not None else "Immunisation"
        if not is_negated(e):
            return self.entry("immunisation", vaccine, effective_date(e), _summary(headline, [dose]),
                              cda_code(e, "statusCode"))
        reason = None
        for relationship in cda_children(e, "entryRelationship"):
            if relationship.get("typeCode") != "RSON":
                continue
            code = cda_at(relationship, "observation", "code")
            coding = cda_coding(code, narrative=self.narrative) if code is not None else None
            if coding is not None and coding.display is not None:
                reason = coding.display
                break
        not_given = "not given" + (f": {reason}" if reason is not None else "")
        return self.entry("immunisation", vaccine, effective_date(e), _summary(headline, [not_given, dose]), "not-done")

    def allergy(self):
        e = self.element
        substance = None
        for participant in cda_children(e, "participant"):
            entity = cda_at(participant, "participantRole", "playingEntity")
            if entity is None:
                continue
            substance = cda_coding(cda(entity, "code"), narrative=self.narrative)
            if substance is None:
                name = plain_text(cda(entity, "name"))
                substance = Coding(display=name) if name is not None else None
            if substance is not None:
                break
        allergy_type = cda_coding(cda(e, "value"), narrative=self.narrative)
        code = substance or allergy_type
        if code is None:
            return None
        related = cda_children(e, "entryRelationship")
        reactions = []
        for relationship in related:
            observation = cda(relationship, "observation")
            if observation is not None and (
                    attr(relationship, "typeCode") == "MFST"
                    or has_template(observation, "2.16.840.1.113883.10.20.22.4.9")):
                reactions.append(observation)
        manifestations = [c.display for o in reactions
                          if (c := cda_coding(cda(o, "value"), narrative=self.narrative)) is not None
                          and c.display is not None]
        severity = None
        groups = [related, cda_children(self.container, "entryRelationship") if self.container is not None else [],
                  [r for o in reactions for r in cda_children(o, "entryRelationship")]]
        for group in groups:
            severity = next((s for s in map(_severity, group) if s is not None), None)
            if severity is not None:
                break
        display = code.display if code.display is not None else "Allergy"
        lowered = display.lower()
        if substance is None or "allerg" in lowered or "intoleran" in lowered:
            headline = display
        else:
            intolerance = allergy_type is not None and allergy_type.display is not None \
                and "intoleran" in allergy_type.display.lower()
            headline = display + (" intolerance" if intolerance else " allergy")
        return self.entry(
            "allergy", code, self.date(),
            _summary(headline, [
                "reaction: " + ", ".join(uniqued(manifestations)) if manifestations else None,
                f"severity: {severity}" if severity is not None else None]),
            self.concern_status())

    def problem(self):
        e = self.element
        condition = cda_coding(cda(e, "value"), narrative=self.narrative)
        if condition is None:
            words = self.narrative.words(cda(e, "text"))
            condition = Coding(display=words) if words is not None else None
        if condition is None:
            return None
        return self.entry(
            "condition", condition, self.date(),
            condition.display if condition.display is not None else "Condition", self.concern_status())

    def result(self, category):
        e = self.element
        test = cda_coding(cda(e, "code"), narrative=self.narrative)
        if test is None:
            words = self.narrative.words(cda(e, "text"))
            test = Coding(display=words) if words is not None else None
        value_element = cda(e, "value")
        numeric = True
        if value_element is not None:
            kind = xsi_type(value_element)
            numeric = kind is None or kind in ("PQ", "INT", "REAL")
        quantity = physical_quantity(value_element) if numeric else None
        if quantity is not None:
            value_text = " ".join(p for p in (quantity.value, quantity.unit) if p is not None)
        else:
            value_text = _coded_or_string(value_element, self.narrative) if value_element is not None else None
        if test is None and quantity is None and value_text is None:
            return None
        if test is not None and test.display is not None:
            name = test.display
        else:
            name = "Test result" if category == "test-result" else "Observation"
        return self.entry(
            category, test, self.date(), f"{name}: {value_text}" if value_text is not None else name,
            cda_code(e, "statusCode"), value=quantity)


def _document_patient_nhs(document) -> Optional[str]:
    role = cda_at(document, "recordTarget", "patientRole")
    if role is None:
        return None
    for identifier in cda_children(role, "id"):
        if attr(identifier, "root") == NHS_NUMBER_OID and not null_flavored(identifier):
            extension = attr(identifier, "extension")
            number = nhs_number(extension) if extension is not None else None
            if number is not None:
                return number
    return None


WITHDRAWN_WORDING = {"entered-in-error": "Entered in error: ", "refuted": "Refuted: ", "nullified": "Nullified: "}


def marking(summary: str, status) -> str:
    """A withdrawn statement's summary, said first (EntrySummary.marking)."""
    return WITHDRAWN_WORDING.get(status, "") + summary


def read_cda_document(document, provider: str, position: int) -> list:
    entries = []
    document_id = cda(document, "id")
    ii = instance_identifier(document_id) if document_id is not None else None
    source_id = ii_key(ii) if ii is not None else f"#{position}"

    # The header: a document entry.
    code = cda_coding(cda(document, "code"))
    title = plain_text(cda(document, "title"))
    date = timestamp(cda(document, "effectiveTime"))
    if code is not None or title is not None or date is not None:
        headline = title or (code.display if code is not None else None) or "Clinical document"
        status_element = next((c for c in element_children(document) if local_name(c) == "statusCode"), None)
        status = attr(status_element, "code") if status_element is not None else None
        organisation = None
        for author in cda_children(document, "author"):
            organisation = plain_text(cda_at(author, "assignedAuthor", "representedOrganization", "name"))
            if organisation is not None:
                break
        if organisation is None:
            organisation = plain_text(cda_at(
                document, "custodian", "assignedCustodian", "representedCustodianOrganization", "name"))
        ids = [i for i in (cda(document, "id"), cda(document, "setId")) if i is not None]
        identifiers = uniqued(ii_entry_identifier(i) for i in map(instance_identifier, ids) if i is not None)
        entries.append(CareEntry(
            "document", code, date,
            marking(f"{headline} — {organisation}" if organisation is not None else headline, status),
            status or "final", None, None, identifiers, (provider, source_id)))

    # The encounter it belongs to.
    encounter = cda_at(document, "componentOf", "encompassingEncounter")
    if encounter is not None:
        encounter_code = cda_coding(cda(encounter, "code"))
        encounter_date = timestamp(cda(encounter, "effectiveTime"))
        if encounter_code is not None or encounter_date is not None:
            disposition = cda_coding(cda(encounter, "dischargeDispositionCode"))
            details = [d for d in (title, f"disposition: {disposition.display}"
                                   if disposition is not None and disposition.display is not None else None)
                       if d is not None]
            headline = encounter_code.display if encounter_code is not None and encounter_code.display is not None \
                else "Encounter"
            ids = instance_identifiers(encounter)
            entries.append(CareEntry(
                "encounter", encounter_code, encounter_date,
                headline + " — " + "; ".join(details) if details else headline, None, None, None,
                uniqued(map(ii_entry_identifier, ids)),
                (provider, f"{source_id}/{ii_key(ids[0]) if ids else 'encounter'}")))

    # Coded entries of the sections CareGate reads.
    found = []
    for kind, section, narrative in readable_sections(document):
        for section_entry in cda_children(section, "entry"):
            for statement, container in section_statements(kind, section_entry):
                # A vaccine not given is read (as not-done); any other negated statement is left out.
                if kind == "immunisations" or not is_negated(statement):
                    found.append((statement, container, kind, narrative))
    uses = {}
    statement_ids = []
    for statement, _, _, _ in found:
        ids = instance_identifiers(statement)
        statement_ids.append(ids)
        for ii in set(ids):
            uses[ii] = uses.get(ii, 0) + 1
    for offset, ((statement, container, kind, narrative), ids) in enumerate(zip(found, statement_ids)):
        ids = [ii for ii in ids if uses[ii] == 1]
        source = (provider, f"{source_id}/{ii_key(ids[0]) if ids else f'#{offset + 1}'}")
        entry = CDAStatement(statement, container, kind, narrative, source,
                             uniqued(map(ii_entry_identifier, ids))).read()
        if entry is not None:
            entries.append(entry)
    return entries


def decode_cda(body: bytes, provider: str) -> list:
    root = parse_xml(body)
    if root.tag == H + "ClinicalDocument":
        documents = [root]
    else:
        children = element_children(root)
        documents = [c for c in children if local_name(c) == "ClinicalDocument"]
        if local_name(root) == "ClinicalDocument" or (not documents and children):
            raise DecodeError("root element is not a ClinicalDocument or a wrapper of ClinicalDocuments")
    entries = []
    known_patient = None
    for position, document in enumerate(documents, start=1):
        if not document.tag.startswith(H):
            continue
        patient = _document_patient_nhs(document)
        # A document about another patient than the first one named is left out.
        if known_patient is not None and patient is not None and patient != known_patient:
            continue
        entries += read_cda_document(document, provider, position)
        known_patient = known_patient or patient
    return entries


# ----------------------------------------------------------------------------------------------------------------
# Mapped XML (Sources/ProviderFormats/MappedXML*.swift, Sources/Providers/XMLMappingFile.swift)
# ----------------------------------------------------------------------------------------------------------------

LOCAL_IDENTIFIER_SYSTEM = "urn:caregate:local"
MAPPING_FIELDS = ("id", "code", "display", "date", "value", "unit", "status", "dose", "summary", "identifier")


@dataclass
class MappingRule:
    category: str
    records: etree.XPath
    fields: dict  # name -> compiled `string(expr)`
    code_system: Optional[str]
    identifier_system: Optional[str]
    administered: bool = False


@dataclass
class Mapping:
    root_tag: Optional[str]
    rules: list


def load_mapping(path: Path) -> Mapping:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    namespaces = {str(k): str(v) for k, v in (document.get("namespaces") or {}).items()}
    root_tag = None
    if document.get("root"):
        prefix, _, local = str(document["root"]).rpartition(":")
        root_tag = "{" + namespaces[prefix] + "}" + local if prefix else local
    rules = []
    for rule in document["entries"]:
        category = str(rule["category"])
        if category not in CATEGORY_ORDER:
            raise ValueError(f"{path}: unknown category {category!r}")
        fields = {}
        for name in MAPPING_FIELDS:
            if rule.get(name) is not None:
                # string() is XPath's own cast: the first node's text for a path, the value of a function.
                fields[name] = etree.XPath(f"string({rule[name]})", namespaces=namespaces, smart_strings=False)
        rules.append(MappingRule(
            category, etree.XPath(str(rule["records"]), namespaces=namespaces), fields,
            rule.get("code_system"), rule.get("identifier_system"), rule.get("administered") is True))
    return Mapping(root_tag, rules)


def status_code(text: str) -> str:
    """A bespoke status as a code (CareEntry.statusCode): lower case, runs of spaces, tabs and underscores as '-'."""
    return "-".join(part for part in re.split(r"[ _\t]+", text.lower()) if part)


def _has_word_character(text: str) -> bool:
    return any(ch.isalpha() or ch.isnumeric() for ch in text)


def decode_mapped(body: bytes, provider: str, mapping: Mapping) -> list:
    root = parse_xml(body)
    if mapping.root_tag is not None and root.tag != mapping.root_tag:
        raise DecodeError(f"root element is not {mapping.root_tag}")
    tree = root.getroottree()
    entries = []
    for rule_index, rule in enumerate(mapping.rules, start=1):
        try:
            nodes = rule.records(tree)
        except etree.XPathError:
            continue
        for record_index, node in enumerate(nodes, start=1):
            try:
                values = {name: trimmed(xpath(node)) for name, xpath in rule.fields.items()}
            except etree.XPathError:
                continue
            summary = values.get("summary")
            if summary is not None and not _has_word_character(summary):
                summary = None
            code, display, date_text = values.get("code"), values.get("display"), values.get("date")
            value, identifier = values.get("value"), values.get("identifier")
            if (code is None and display is None and date_text is None and value is None and values.get("status") is None
                    and values.get("dose") is None and summary is None and identifier is None):
                continue
            status = status_code(values["status"]) if values.get("status") is not None else None
            entries.append(CareEntry(
                rule.category,
                Coding(rule.code_system, code, display) if code is not None or display is not None else None,
                ClinicalDate.parse(date_text),
                marking(summary or display or code or rule.category, status),
                status,
                Quantity(value, values.get("unit")) if value is not None else None,
                values.get("dose"),
                [(rule.identifier_system or LOCAL_IDENTIFIER_SYSTEM, identifier)] if identifier is not None else [],
                (provider, values.get("id") or f"{rule_index}#{record_index}"), rule.administered))
    return entries


# ----------------------------------------------------------------------------------------------------------------
# Merge (Sources/RecordMerge/RecordMerger.swift, MatchKey.swift)
# ----------------------------------------------------------------------------------------------------------------

def normalise_text(text: str) -> str:
    """Lower case, single spaces, no trailing full stop."""
    return " ".join(text.lower().split()).rstrip(".")


_DECIMAL_BODY = re.compile(r"[0-9.]+")


def normalise_decimal(text: str) -> str:
    digits = text.strip(" ")
    negative = False
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("-"):
        negative = True
        digits = digits[1:]
    if not digits or not _DECIMAL_BODY.fullmatch(digits) or digits.count(".") > 1:
        return normalise_text(text)
    integer, _, fraction = digits.partition(".")
    integer = integer.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    body = f"{integer}.{fraction}" if fraction else integer
    return "-" + body if negative and body != "0" else body


def normalise_quantity(quantity: Optional[Quantity]) -> str:
    if quantity is None:
        return ""
    return normalise_decimal(quantity.value) + " " + normalise_text(quantity.unit or "")


def concept_of(category, code: Optional[Coding], summary: str) -> str:
    if code is not None and code.code:
        return (code.system or "") + "|" + code.code
    display = code.display if code is not None and code.display is not None else summary
    return "text|" + normalise_text(display)


def time_of(date: Optional[ClinicalDate]) -> str:
    if date is None:
        return ""
    if date.precision == TIME:
        return str(date.sort_key)
    return date.day if date.day is not None else date.text


# Statuses by which a source withdraws its own statement. Only statements of the same standing (asserted, not
# done, withdrawn) merge (CareEntry.Standing).
WITHDRAWN_STATUSES = {"entered-in-error", "refuted", "nullified"}


def standing(entry: CareEntry) -> str:
    if entry.status in WITHDRAWN_STATUSES:
        return "withdrawn"
    return "not-done" if entry.status == "not-done" else "asserted"


def match_key(entry: CareEntry) -> tuple:
    category = entry.category
    if category == "medication" and entry.administered:
        qualifier = time_of(entry.date) + "|" + normalise_text(entry.dose or "")
    elif category == "medication":
        qualifier = normalise_text(entry.dose or "")
    elif category == "allergy":
        qualifier = ""
    elif category in ("test-result", "observation"):
        qualifier = time_of(entry.date) + "|" + normalise_quantity(entry.value)
    elif category in ("appointment", "encounter") and entry.date is not None and entry.date.precision == TIME:
        # Coded by kind, not by the fact: a visit is told apart by its time...
        qualifier = time_of(entry.date)
    elif category in ("appointment", "encounter", "document", "care-plan"):
        # ...a document or a plan (or a visit given only a day) by its title too.
        qualifier = time_of(entry.date) + "|" + normalise_text(entry.summary)
    else:
        date = entry.date
        qualifier = "" if date is None else (date.day if date.day is not None else date.text)
    ended = category == "medication" and not entry.administered and medication_ended(entry.status)
    return (category, concept_of(category, entry.code, entry.summary), qualifier, standing(entry), entry.administered,
            ended)


# A medicine's status saying it is no longer taken (MatchKey.swift, MedicationStatus); any other, or none, is current.
ENDED_MEDICATION_STATUSES = {"completed", "complete", "stopped", "cancelled", "canceled", "not-taken", "aborted",
                             "discontinued", "ended", "inactive", "finished"}


def medication_ended(status: Optional[str]) -> bool:
    return status in ENDED_MEDICATION_STATUSES


def stable_id(source: tuple) -> str:
    """64-bit FNV-1a of `provider NUL id`, as `e` and 16 hex digits."""
    value = 0xCBF29CE484222325
    for byte in source[0].encode() + b"\x00" + source[1].encode():
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "e" + format(value, "016x")


@dataclass(slots=True)
class MergedEntry:
    id: str
    category: str
    code: Optional[Coding]
    date: Optional[ClinicalDate]
    summary: str
    status: Optional[str]
    value: Optional[Quantity]
    dose: Optional[str]
    sources: list
    conflict: Optional[tuple] = None  # (field, [ids])
    administered: bool = False
    source_summaries: dict = field(default_factory=dict)  # (provider, id) -> that source's own line, where it differs

    def to_json(self) -> dict:
        out = {"id": self.id, "category": self.category, "summary": self.summary,
               "sources": [{"provider": p, "id": i} | ({"summary": self.source_summaries[(p, i)]}
                                                        if (p, i) in self.source_summaries else {})
                           for p, i in self.sources]}
        if self.administered:
            out["administered"] = True
        if self.code is not None:
            out["code"] = self.code.to_json()
        if self.date is not None:
            out["date"] = self.date.text
        if self.status is not None:
            out["status"] = self.status
        if self.value is not None:
            out["value"] = self.value.to_json()
        if self.dose is not None:
            out["dose"] = self.dose
        if self.conflict is not None:
            out["conflict"] = {"field": self.conflict[0], "with": self.conflict[1]}
        return out


def _first(values):
    return next((v for v in values if v is not None), None)


def _detail(text: str) -> int:
    return sum(1 for byte in text.encode() if byte >= 0x80 or chr(byte).isalnum())


def merge(entries: list) -> list:
    """De-duplicates entries from several providers, keeping every source; newest first."""
    parent = list(range(len(entries)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a, b):
        a, b = find(a), find(b)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first_by_identifier = {}
    first_by_match = {}
    for index, entry in enumerate(entries):
        for identifier in entry.identifiers:
            key = (entry.category, identifier, standing(entry))
            first = first_by_identifier.setdefault(key, index)
            if first != index:
                union(first, index)
        first = first_by_match.setdefault(match_key(entry), index)
        if first != index:
            union(first, index)

    groups = {}
    for index in range(len(entries)):
        groups.setdefault(find(index), []).append(entries[index])

    merged = []
    # Group order is the order of each group's first member (dicts keep insertion order, and a group is
    # inserted when its first member is met).
    for members in groups.values():
        head = members[0]
        sources = sorted(set(m.source for m in members))
        dated = [m.date for m in members if m.date is not None]
        date = max(dated, key=lambda d: d.precision) if dated else None
        # The most detailed summary (the most letters and digits, as UTF-8 bytes; the first of equals), and each
        # source's own line where it differs.
        summary = max((m.summary for m in members), key=_detail)
        merged.append(MergedEntry(
            stable_id(sources[0]), head.category, head.code or _first(m.code for m in members), date, summary,
            # Any member saying `active` wins; else the first status given.
            ([m.status for m in members if m.status == "active"]
             or [_first(m.status for m in members)])[-1],
            head.value or _first(m.value for m in members),
            head.dose if head.dose is not None else _first(m.dose for m in members), sources,
            administered=head.administered,
            source_summaries={m.source: m.summary for m in members if m.summary != summary}))

    # Conflicts: the same concept (and, for results, the same time) that did not merge.
    by_concept = {}
    for index, entry in enumerate(merged):
        if entry.category in ("medication", "test-result", "observation"):
            time = time_of(entry.date) if entry.category != "medication" or entry.administered else ""
            key = (entry.category, concept_of(entry.category, entry.code, entry.summary), time, entry.administered)
            by_concept.setdefault(key, []).append(index)
    for indices in by_concept.values():
        if len(indices) > 1:
            medication = merged[indices[0]].category == "medication"
            for index in indices:
                others = [i for i in indices if i != index]
                dose = normalise_text(merged[index].dose or "")
                if not medication:
                    field_name = "value"
                elif any(normalise_text(merged[i].dose or "") != dose for i in others):
                    field_name = "dose"
                else:
                    field_name = "status"
                merged[index].conflict = (field_name, sorted(merged[i].id for i in others))

    merged.sort(key=lambda e: (0, -e.date.sort_key, CATEGORY_ORDER[e.category], e.id) if e.date is not None
                else (1, 0, CATEGORY_ORDER[e.category], e.id))
    return merged


# ----------------------------------------------------------------------------------------------------------------
# Providers (Sources/Providers/ProviderDefinition.swift)
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class Provider:
    id: str
    kind: str
    url_template: str
    timeout_ms: int
    max_connections: int
    max_response_bytes: int
    decode: Callable[[bytes, str], list]

    def url(self, nhs: str) -> str:
        return self.url_template.replace("{nhs}", nhs)


def load_providers(folder: Path) -> list:
    providers = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name.endswith(".mapping.yaml"):
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "id" not in document or "url" not in document:
            continue
        provider_format = document["format"]
        if provider_format == "fhir-r4-xml":
            decode = decode_fhir
        elif provider_format == "cda":
            decode = decode_cda
        elif provider_format == "mapped-xml":
            mapping = load_mapping(folder / document["mapping"])
            decode = (lambda m: lambda body, provider: decode_mapped(body, provider, m))(mapping)
        else:
            raise ValueError(f"{path}: unknown format {provider_format!r}")
        url = str(document["url"])
        if "{nhs}" not in url or urlsplit(url.replace("{nhs}", "9990000018")).scheme not in ("http", "https"):
            raise ValueError(f"{path}: url must be an http(s) URL containing {{nhs}}")
        providers.append(Provider(
            id=str(document["id"]), kind=str(document["kind"]), url_template=url,
            timeout_ms=int(document["timeout_ms"]), max_connections=int(document.get("max_connections", 64)),
            max_response_bytes=int(document.get("max_response_bytes", 16 * 1024 * 1024)), decode=decode))
    providers.sort(key=lambda p: p.id)  # CareGate's registry order: by provider id
    if len({p.id for p in providers}) != len(providers):
        raise ValueError("a provider id is declared twice")
    return providers


# ----------------------------------------------------------------------------------------------------------------
# Fan-out
# ----------------------------------------------------------------------------------------------------------------

class ProviderError(Exception):
    pass


@dataclass
class Outcome:
    provider: Provider
    status: str
    latency_ms: int
    entries: list = field(default_factory=list)
    error: Optional[str] = None

    def manifest_line(self) -> dict:
        line = {"id": self.provider.id, "kind": self.provider.kind, "status": self.status,
                "latencyMs": self.latency_ms, "entries": len(self.entries)}
        if self.error is not None:
            line["error"] = self.error
        return line


REQUEST_HEADERS = {"Accept": "application/fhir+xml, application/xml;q=0.9", "User-Agent": "CareGate-peer"}


async def ask(session: aiohttp.ClientSession, provider: Provider, nhs: str, budget_ms: int, started: float) -> Outcome:
    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        async with asyncio.timeout(budget_ms / 1000):
            async with session.get(provider.url(nhs), headers=REQUEST_HEADERS, allow_redirects=False) as response:
                if response.status != 200:
                    raise ProviderError(f"HTTP {response.status} from provider")
                content_type = response.headers.get("Content-Type", "").lower()
                if "xml" not in content_type:
                    raise ProviderError("unexpected content type (expected XML)" if content_type
                                        else "response has no content type")
                if (response.content_length or 0) > provider.max_response_bytes:
                    raise ProviderError(f"response larger than {provider.max_response_bytes} bytes")
                body = bytearray()
                async for chunk in response.content.iter_any():
                    body += chunk
                    if len(body) > provider.max_response_bytes:
                        raise ProviderError(f"response larger than {provider.max_response_bytes} bytes")
            entries = provider.decode(bytes(body), provider.id)
        return Outcome(provider, "ok", elapsed(), entries)
    except TimeoutError:
        return Outcome(provider, "timeout", budget_ms, error=f"no answer within {budget_ms} ms")
    except (ProviderError, DecodeError) as error:
        return Outcome(provider, "error", elapsed(), error=str(error))
    except aiohttp.ClientConnectorError:
        return Outcome(provider, "error", elapsed(), error="could not connect")
    except aiohttp.ClientError as error:
        return Outcome(provider, "error", elapsed(), error=f"transport error ({type(error).__name__})")


# ----------------------------------------------------------------------------------------------------------------
# Tokens
# ----------------------------------------------------------------------------------------------------------------

class TokenVerifier:
    """ES256 (and RS256/PS256) bearer tokens against a JWKS file: signature, kid, exp (and nbf), iss, aud."""

    ALGORITHMS = {"ES256", "RS256", "PS256"}

    def __init__(self, jwks_text: str, issuer: str, audience: str):
        self.issuer = issuer
        self.audience = audience
        self.keys = {}
        for key in jwt.PyJWKSet.from_json(jwks_text).keys:
            if key.key_id and key.public_key_use in (None, "sig") and key.algorithm_name in self.ALGORITHMS:
                self.keys[key.key_id] = key
        if not self.keys:
            raise ValueError("the JWKS holds no usable signing key")

    def verify(self, authorization: str) -> dict:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise jwt.InvalidTokenError("no bearer token was presented")
        token = token.strip()
        header = jwt.get_unverified_header(token)
        key = self.keys.get(header.get("kid"))
        if key is None:
            raise jwt.InvalidTokenError("unknown key")
        return jwt.decode(
            token, key.key, algorithms=[key.algorithm_name], audience=self.audience, issuer=self.issuer,
            options={"require": ["exp", "iss", "aud"]})


# ----------------------------------------------------------------------------------------------------------------
# HTTP server
# ----------------------------------------------------------------------------------------------------------------

ERROR_SYSTEM = "https://caregate.example/CodeSystem/error"


def error_response(status: int, issue: str, code: str, message: str) -> web.Response:
    body = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": issue, "details": {"coding": [{"system": ERROR_SYSTEM, "code": code}]},
        "diagnostics": message}]}
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="caregate-peer"'
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/fhir+json",
                        headers=headers)


class Gateway:
    def __init__(self, providers: list, verifier: TokenVerifier, deadline_ms: int):
        self.providers = providers
        self.verifier = verifier
        self.deadline_ms = deadline_ms
        self.session: Optional[aiohttp.ClientSession] = None

    async def start(self, app: web.Application):
        # One session for every provider. Connection limits as CareGate sizes them (`max_connections`, default 64,
        # per provider): per host, the sum for the providers on that host; in all, the sum for every provider.
        per_host = {}
        for provider in self.providers:
            parts = urlsplit(provider.url_template.replace("{nhs}", "0"))
            per_host[(parts.hostname, parts.port)] = per_host.get((parts.hostname, parts.port), 0) + provider.max_connections
        connector = aiohttp.TCPConnector(
            limit=sum(p.max_connections for p in self.providers), limit_per_host=max(per_host.values()),
            keepalive_timeout=60)
        self.session = aiohttp.ClientSession(connector=connector)

    async def stop(self, app: web.Application):
        if self.session is not None:
            await self.session.close()

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def record(self, request: web.Request) -> web.Response:
        try:
            self.verifier.verify(request.headers.get("Authorization", ""))
        except jwt.PyJWTError as error:
            return error_response(401, "login", "invalid-token", f"the bearer token was refused: {error}")
        nhs = nhs_number(request.match_info["nhs"])
        if nhs is None:
            return error_response(400, "invalid", "invalid-nhs-number",
                                  "path parameter 'nhs': not a valid NHS number")

        started = time.monotonic()
        outcomes = await asyncio.gather(*(
            ask(self.session, provider, nhs, min(provider.timeout_ms, self.deadline_ms), started)
            for provider in self.providers))
        merged = merge([entry for outcome in outcomes for entry in outcome.entries])
        complete = all(outcome.status == "ok" for outcome in outcomes)
        view = {
            "patient": {"nhsNumber": nhs},
            "complete": complete,
            "providers": [outcome.manifest_line() for outcome in outcomes],
            "entries": [entry.to_json() for entry in merged],
            "withheld": 0,
        }
        body = json.dumps(view, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        return web.Response(body=body, content_type="application/json", headers={
            "Cache-Control": "no-store", "CareGate-Complete": "true" if complete else "false"})

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/v1/patients/{nhs}/record", self.record)
        app.on_startup.append(self.start)
        app.on_cleanup.append(self.stop)
        return app


async def serve(gateway: Gateway, host: str, port: int, reuse_port: bool, on_ready: Callable[[int], None]):
    runner = web.AppRunner(gateway.application(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None, backlog=1024)
    await site.start()
    bound = port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        bound = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    on_ready(bound)
    await stop.wait()
    await runner.cleanup()


def worker(gateway: Gateway, host: str, port: int, ready) -> None:
    asyncio.run(serve(gateway, host, port, True, lambda _: ready.set()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="CareGate peer gateway (Python reference for the benchmark).")
    parser.add_argument("--providers", required=True, type=Path, help="folder of provider YAML files")
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--jwks", required=True, type=Path, help="JSON Web Key Set file of trusted signing keys")
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--audience", required=True)
    parser.add_argument("--deadline-ms", type=int, default=2000, help="deadline for a whole query (default 2000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes sharing the port with SO_REUSEPORT (default 1)")
    args = parser.parse_args(argv)
    if args.workers < 1 or (args.workers > 1 and args.port == 0):
        parser.error("--workers must be at least 1, and a fixed --port is needed with more than one")

    gateway = Gateway(load_providers(args.providers),
                      TokenVerifier(args.jwks.read_text(encoding="utf-8"), args.issuer, args.audience),
                      args.deadline_ms)
    if not gateway.providers:
        parser.error(f"no provider files (*.yaml with id: and url:) in {args.providers}")

    def announce(port: int) -> None:
        print(f"peer listening on {port}", flush=True)

    if args.workers == 1:
        asyncio.run(serve(gateway, args.host, args.port, False, announce))
        return 0

    context = multiprocessing.get_context("fork")
    processes = []
    for _ in range(args.workers):
        ready = context.Event()
        process = context.Process(target=worker, args=(gateway, args.host, args.port, ready), daemon=True)
        process.start()
        processes.append((process, ready))
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for process, _ in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for process, ready in processes:
        while not ready.wait(0.1):
            if not process.is_alive():
                stop(None, None)
                print("peer: a worker failed to start", file=sys.stderr)
                return 1
    announce(args.port)
    for process, _ in processes:
        process.join()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
