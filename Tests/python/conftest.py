"""Shared setup for CareGate's Python interop tests, run against a live gateway.

Environment (all required; Tests/python/run.sh checks them first):
  CAREGATE_BASE_URL     e.g. http://127.0.0.1:8080
  CAREGATE_TOKEN        clinician bearer token (role R8000) launched for CAREGATE_PATIENT
  CAREGATE_OTHER_TOKEN  clinician token launched for a different patient (requests for CAREGATE_PATIENT -> 403)
  CAREGATE_ADMIN_TOKEN  operator token (scope caregate.admin)
  CAREGATE_EMERGENCY_TOKEN  break-glass capable token (role R8001, purpose emergency), another user than the operator
  CAREGATE_PATIENT      the synthetic demo NHS number
"""

import base64
import json
import os
import xml.etree.ElementTree as ET

import pytest
import requests

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
SOURCE_EXTENSION = "https://caregate.example/fhir/StructureDefinition/source"
SOURCE_PREFIX = "https://caregate.example/provider/"
ERROR_SYSTEM = "https://caregate.example/CodeSystem/error"
FHIR_NS = "{http://hl7.org/fhir}"
CLINICAL_TYPES = [
    "AllergyIntolerance", "MedicationStatement", "Observation", "DiagnosticReport", "Encounter", "Appointment",
    "DocumentReference", "CarePlan", "Condition", "Immunization",
]
TIMEOUT = 30


def _env(name):
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.exit(f"environment variable {name} is not set (see Tests/python/run.sh)", returncode=2)
    return value


class Gateway:
    """Plain HTTP access to the gateway under test."""

    def __init__(self):
        self.base = _env("CAREGATE_BASE_URL").rstrip("/")
        self.fhir = self.base + "/fhir"
        self.token = _env("CAREGATE_TOKEN")
        self.other_token = _env("CAREGATE_OTHER_TOKEN")
        self.admin_token = _env("CAREGATE_ADMIN_TOKEN")
        self.emergency_token = _env("CAREGATE_EMERGENCY_TOKEN")
        self.patient = _env("CAREGATE_PATIENT")
        self.session = requests.Session()

    def get(self, path, token="default", params=None, headers=None):
        """GET base+path (path may also be an absolute URL). token: 'default', None (no header) or a token."""
        url = path if path.startswith("http") else self.base + path
        merged = dict(headers or {})
        if token == "default":
            token = self.token
        if token is not None:
            merged["Authorization"] = f"Bearer {token}"
        return self.session.get(url, params=params, headers=merged, timeout=TIMEOUT)

    def request(self, method, path, token, **kwargs):
        return self.session.request(
            method, self.base + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT, **kwargs)

    def json_ok(self, path, **kwargs):
        response = self.get(path, **kwargs)
        assert response.status_code == 200, describe(response)
        return response.json()


def describe(response):
    """A short description of a response for assertion messages (never the token)."""
    body = response.text
    if len(body) > 600:
        body = body[:600] + "…"
    return (f"{response.request.method} {response.url} -> {response.status_code} "
            f"[{response.headers.get('Content-Type')}] {body}")


def token_claims(token):
    """The JWT payload, unverified (only to learn which patient a test token was launched for)."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def assert_operation_outcome(response, status, issue_code=None, reason=None):
    """A JSON OperationOutcome error with the given HTTP status, FHIR issue type and CareGate reason code."""
    assert response.status_code == status, describe(response)
    content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("application/fhir+json"), describe(response)
    outcome = response.json()
    assert outcome.get("resourceType") == "OperationOutcome", describe(response)
    issues = outcome.get("issue") or []
    assert issues, describe(response)
    assert issues[0].get("severity") == "error", describe(response)
    if issue_code:
        assert issues[0].get("code") == issue_code, describe(response)
    if reason:
        codings = (issues[0].get("details") or {}).get("coding") or []
        assert {"system": ERROR_SYSTEM, "code": reason} in [
            {"system": c.get("system"), "code": c.get("code")} for c in codings], describe(response)
    return outcome


def parse_fhir_xml(response):
    """The root element of an XML FHIR response (asserts the content type and namespace)."""
    content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("application/fhir+xml"), describe(response)
    root = ET.fromstring(response.content)
    assert root.tag.startswith(FHIR_NS), f"root {root.tag} is not in the FHIR namespace: {describe(response)}"
    return root


def assert_provenance(resource, where=""):
    """A clinical resource's meta.source and one source extension (nested provider and id) per source.
    (The Patient is built by CareGate itself; its meta.source is checked on its own, in test_fhirpy.py.)"""
    if resource.get("resourceType") == "Patient":
        return
    label = f"{resource.get('resourceType')}/{resource.get('id')}{where}"
    source = (resource.get("meta") or {}).get("source")
    assert source and source.startswith(SOURCE_PREFIX), f"{label}: meta.source is {source!r}"
    extensions = [e for e in resource.get("extension") or [] if e.get("url") == SOURCE_EXTENSION]
    assert extensions, f"{label}: no {SOURCE_EXTENSION} extension"
    providers = []
    for extension in extensions:
        nested = {e.get("url"): e.get("valueString") for e in extension.get("extension") or []}
        assert nested.get("provider") and nested.get("id"), f"{label}: source extension {extension}"
        providers.append(nested["provider"])
    assert source[len(SOURCE_PREFIX):] in providers, f"{label}: meta.source {source} is not one of its sources"


def match_entries(bundle):
    return [e for e in bundle.get("entry") or [] if (e.get("search") or {}).get("mode", "match") == "match"]


def link(bundle, relation):
    for item in bundle.get("link") or []:
        if item.get("relation") == relation:
            return item.get("url")
    return None


@pytest.fixture(scope="session")
def gateway():
    return Gateway()


@pytest.fixture(scope="session")
def fhir_ready(gateway):
    """The FHIR routes are there: /fhir/metadata answers a CapabilityStatement without a token."""
    response = gateway.get("/fhir/metadata", token=None)
    assert response.status_code == 200, f"the FHIR routes are not there: {describe(response)}"
    assert response.json().get("resourceType") == "CapabilityStatement", describe(response)
    return gateway


def retried(attempts=3):
    """Retries a test that compares counts across several requests: on a loaded machine a provider may miss its
    deadline in one of them (the gateway then answers, correctly, without it). A real mismatch fails every time."""
    import functools

    def decorate(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                try:
                    return test(*args, **kwargs)
                except AssertionError as error:
                    if attempt == attempts:
                        raise
                    print(f"{test.__name__}: attempt {attempt} failed ({str(error).splitlines()[0][:200]}); retrying")
        return run
    return decorate
