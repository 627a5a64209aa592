"""SMART on FHIR client-py (fhirclient) against CareGate: its model classes parse strictly, so every resource
CareGate sends must have the shape FHIR R4 gives it (right element names, types, cardinalities)."""

import warnings

import pytest
from fhirclient import server as fhirserver
from fhirclient.models.bundle import Bundle
from fhirclient.models.capabilitystatement import CapabilityStatement
from fhirclient.models.medicationstatement import MedicationStatement
from fhirclient.models.operationoutcome import OperationOutcome
from fhirclient.models.patient import Patient

from conftest import retried, NHS_SYSTEM, CLINICAL_TYPES, describe, link, match_entries


@pytest.fixture(scope="module")
def server(fhir_ready):
    fhir = fhirserver.FHIRServer(None, base_uri=fhir_ready.fhir)
    # client-py signs requests only through its SMART auth; a bearer token from a portal goes on the session.
    fhir.session.headers["Authorization"] = f"Bearer {fhir_ready.token}"
    return fhir


def test_capability_statement_parses(fhir_ready):
    statement = CapabilityStatement(fhir_ready.json_ok("/fhir/metadata", token=None))
    assert statement.fhirVersion == "4.0.1"
    served = {resource.type for rest in statement.rest for resource in rest.resource or []}
    missing = {"Patient", *CLINICAL_TYPES} - served
    assert not missing, f"the CapabilityStatement does not list {sorted(missing)}"


def test_patient_read(server, fhir_ready):
    patient = Patient.read(fhir_ready.patient, server)
    assert patient.id == fhir_ready.patient
    assert (NHS_SYSTEM, fhir_ready.patient) in [(i.system, i.value) for i in patient.identifier or []]


@retried()
def test_medication_statement_search(server, fhir_ready):
    total = fhir_ready.json_ok("/fhir/MedicationStatement", params={"patient": fhir_ready.patient})["total"]
    search = MedicationStatement.where(struct={"patient": fhir_ready.patient})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        resources = search.perform_resources(server)
    statements = [r for r in resources if isinstance(r, MedicationStatement)]
    assert len(statements) == total, f"{len(statements)} MedicationStatements parsed, total says {total}"
    for statement in statements:
        assert statement.subject.reference == f"Patient/{fhir_ready.patient}"
        assert statement.status, f"MedicationStatement/{statement.id} has no status"
        assert statement.medicationCodeableConcept or statement.medicationReference


@retried()
def test_medication_statement_search_pages(server, fhir_ready):
    """perform_resources_iter follows `next` through client-py's own pagination."""
    total = fhir_ready.json_ok("/fhir/MedicationStatement", params={"patient": fhir_ready.patient})["total"]
    search = MedicationStatement.where(struct={"patient": fhir_ready.patient, "_count": "3"})
    resources = [r for r in search.perform_resources_iter(server) if isinstance(r, MedicationStatement)]
    assert len(resources) == total
    assert len({r.id for r in resources}) == total


def test_everything_bundle_parses(fhir_ready):
    raw = fhir_ready.json_ok(f"/fhir/Patient/{fhir_ready.patient}/$everything", params={"_count": 1000})
    bundle = Bundle(raw)  # strict: raises FHIRValidationError on any element FHIR R4 does not have
    assert bundle.type == "searchset" and bundle.total == len(match_entries(raw))
    kinds = {entry.resource.resource_type for entry in bundle.entry if entry.search.mode == "match"}
    assert "Patient" in kinds and len(kinds) > 3, kinds
    for entry in bundle.entry:
        if entry.search.mode == "outcome":
            assert isinstance(entry.resource, OperationOutcome)
            assert entry.resource.issue[0].severity == "warning"
        else:
            assert entry.fullUrl, entry.as_json()
            if entry.resource.resource_type != "Patient":
                assert entry.resource.meta is not None and entry.resource.meta.source, \
                    f"{entry.resource.resource_type}/{entry.resource.id} has no meta.source"


@retried()
def test_everything_pages_parse(fhir_ready):
    url = f"/fhir/Patient/{fhir_ready.patient}/$everything?_count=7"
    parsed, pages = 0, 0
    while url:
        response = fhir_ready.get(url)
        assert response.status_code == 200, describe(response)
        bundle = Bundle(response.json())
        parsed += len([e for e in bundle.entry or [] if e.search.mode == "match"])
        pages += 1
        url = link(response.json(), "next")
        assert pages < 300
    assert parsed == bundle.total


@pytest.mark.parametrize("resource_type", CLINICAL_TYPES)
def test_each_type_parses(fhir_ready, resource_type):
    raw = fhir_ready.json_ok(f"/fhir/{resource_type}", params={"patient": fhir_ready.patient, "_count": 1000})
    bundle = Bundle(raw)
    for entry in bundle.entry or []:
        if entry.search.mode == "match":
            assert entry.resource.resource_type == resource_type


def test_error_parses(fhir_ready):
    response = fhir_ready.get(f"/fhir/Patient/{fhir_ready.patient}", token=None)
    assert response.status_code == 401, describe(response)
    outcome = OperationOutcome(response.json())
    assert outcome.issue[0].code == "login"


def test_patient_demographics(server, fhir_ready):
    patient = Patient.read(fhir_ready.patient, server)
    assert patient.name and patient.name[0].family, "no name"
    assert patient.gender, "no gender"
    assert patient.birthDate, "no birthDate"
