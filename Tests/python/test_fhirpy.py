"""fhirpy (SyncFHIRClient) against CareGate's FHIR routes: search, paging with `next`, read, $everything."""

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome as FHIRPyOperationOutcome

from conftest import retried, NHS_SYSTEM, SOURCE_PREFIX, assert_provenance, describe, link, match_entries


@pytest.fixture(scope="module")
def client(fhir_ready):
    return SyncFHIRClient(url=fhir_ready.fhir, authorization=f"Bearer {fhir_ready.token}")


def plain_total(gateway, resource_type):
    bundle = gateway.json_ok(f"/fhir/{resource_type}", params={"patient": gateway.patient})
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset", bundle
    return bundle["total"]


@retried()
def test_medication_statements_all_pages(client, fhir_ready):
    total = plain_total(fhir_ready, "MedicationStatement")
    assert total > 0, "the demo patient should have medication statements"
    page_size = max(1, min(5, total // 2 or 1))  # several pages whenever there are 2 or more
    resources = client.resources("MedicationStatement").search(patient=fhir_ready.patient).limit(page_size).fetch_all()
    assert len(resources) == total, f"fetch_all() following `next` gave {len(resources)}, total says {total}"
    ids = [r.id for r in resources]
    assert len(set(ids)) == len(ids), f"ids repeat across pages: {sorted(ids)}"
    for resource in resources:
        assert resource.resourceType == "MedicationStatement"
        assert_provenance(dict(resource))
        subject = resource.get("subject") or {}
        assert subject.get("reference") == f"Patient/{fhir_ready.patient}", subject


@retried()
def test_search_by_patient_reference(client, fhir_ready):
    by_digits = client.resources("Condition").search(patient=fhir_ready.patient).fetch_all()
    by_reference = client.resources("Condition").search(patient=f"Patient/{fhir_ready.patient}").fetch_all()
    assert sorted(r.id for r in by_digits) == sorted(r.id for r in by_reference)


def test_patient_search_by_identifier(client, fhir_ready):
    patients = client.resources("Patient").search(identifier=f"{NHS_SYSTEM}|{fhir_ready.patient}").fetch()
    assert [p.id for p in patients] == [fhir_ready.patient]
    identifiers = [(i.get("system"), i.get("value")) for i in patients[0].get("identifier") or []]
    assert (NHS_SYSTEM, fhir_ready.patient) in identifiers


@pytest.mark.parametrize("query", [
    "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}",
    "identifier=https://fhir.nhs.uk/Id/nhs-number%7C{nhs}",
    "identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C{nhs}",
    "identifier=https%3A//fhir.nhs.uk/Id/nhs-number%7c{nhs}",
])
def test_patient_search_identifier_encodings(fhir_ready, query):
    response = fhir_ready.get(f"/fhir/Patient?{query.format(nhs=fhir_ready.patient)}")
    assert response.status_code == 200, describe(response)
    bundle = response.json()
    assert bundle["total"] == 1, describe(response)
    assert [e["resource"]["id"] for e in match_entries(bundle)] == [fhir_ready.patient], describe(response)


def test_patient_read(client, fhir_ready):
    patient = client.get("Patient", fhir_ready.patient)
    assert patient["resourceType"] == "Patient" and patient["id"] == fhir_ready.patient
    identifiers = [(i.get("system"), i.get("value")) for i in patient.get("identifier") or []]
    assert (NHS_SYSTEM, fhir_ready.patient) in identifiers
    same = client.reference("Patient", fhir_ready.patient).to_resource()
    assert same.id == fhir_ready.patient


@retried()
def test_everything_pages(client, fhir_ready):
    page = client.execute(f"Patient/{fhir_ready.patient}/$everything", method="get", params={"_count": 10})
    total = page["total"]
    assert total > 10, f"expected several pages of $everything for the demo patient, total is {total}"
    seen, pages = [], 0
    while True:
        pages += 1
        assert page["resourceType"] == "Bundle" and page["type"] == "searchset"
        assert page["total"] == total, f"page {pages}: total {page['total']} differs from the first page's {total}"
        assert link(page, "self"), f"page {pages} has no self link"
        matches = match_entries(page)
        assert len(matches) <= 10, f"page {pages} has {len(matches)} matches with _count=10"
        for entry in matches:
            resource = entry["resource"]
            seen.append((resource["resourceType"], resource["id"]))
            assert_provenance(resource, where=f" (page {pages})")
            assert entry.get("fullUrl", "").endswith(f"/{resource['resourceType']}/{resource['id']}"), entry.get("fullUrl")
        for entry in page.get("entry") or []:
            if entry.get("search", {}).get("mode") == "outcome":
                assert entry["resource"]["resourceType"] == "OperationOutcome"
                assert entry["resource"]["issue"][0]["severity"] == "warning"
        following = link(page, "next")
        if not following:
            break
        assert following.startswith(fhir_ready.fhir + "/"), f"next link is not absolute under the base: {following}"
        assert "_offset=" in following, following
        assert pages < 200, "too many pages"
        page = client.execute(following, method="get")
    duplicates = {key for key in seen if seen.count(key) > 1}
    assert not duplicates, f"resources repeat across pages: {sorted(duplicates)}"
    assert len(seen) == total, f"{len(seen)} resources over {pages} pages, total says {total}"
    assert pages == -(-total // 10), f"{pages} pages for total {total} at _count=10"
    types = {t for t, _ in seen}
    assert "Patient" in types, types
    assert ("Patient", fhir_ready.patient) == seen[0], f"$everything should start with the Patient, got {seen[0]}"


@retried()
def test_everything_type_filter(client, fhir_ready):
    bundle = client.execute(f"Patient/{fhir_ready.patient}/$everything", method="get",
                            params={"_type": "MedicationStatement,Condition", "_count": 1000})
    types = {e["resource"]["resourceType"] for e in match_entries(bundle)}
    assert types and types <= {"MedicationStatement", "Condition"}, types
    assert bundle["total"] == len(match_entries(bundle))
    medications = plain_total(fhir_ready, "MedicationStatement")
    conditions = plain_total(fhir_ready, "Condition")
    assert bundle["total"] == medications + conditions


def test_everything_date_range(client, fhir_ready):
    everything = client.execute(f"Patient/{fhir_ready.patient}/$everything", method="get", params={"_count": 1000})
    dated = client.execute(f"Patient/{fhir_ready.patient}/$everything", method="get",
                           params={"start": "2024-01-01", "end": "2024-12-31", "_count": 1000})
    assert dated["total"] <= everything["total"]
    empty = client.execute(f"Patient/{fhir_ready.patient}/$everything", method="get",
                           params={"start": "1900-01-01", "end": "1900-12-31", "_count": 1000})
    assert not [e for e in match_entries(empty) if e["resource"]["resourceType"] != "Patient"], empty


def test_count_only(client, fhir_ready):
    try:
        count = client.resources("MedicationStatement").search(patient=fhir_ready.patient).count()
    except FHIRPyOperationOutcome as error:
        pytest.fail(f"_count=0 refused: {error}")
    assert count == plain_total(fhir_ready, "MedicationStatement")


def test_patient_has_meta_source(client, fhir_ready):
    patient = client.get("Patient", fhir_ready.patient)
    source = (patient.get("meta") or {}).get("source")
    assert source and source.startswith(SOURCE_PREFIX), f"Patient meta is {patient.get('meta')!r}"
