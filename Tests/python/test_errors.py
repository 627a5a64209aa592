"""Errors on the FHIR routes: OperationOutcome with the right HTTP status, issue type and reason, in the
requested format."""

import pytest

from conftest import (
    ERROR_SYSTEM, FHIR_NS, assert_operation_outcome, describe, parse_fhir_xml, token_claims,
)

BAD_CHECK_DIGIT = "9993529894"


def fhir_routes(nhs):
    return [
        f"/fhir/Patient/{nhs}",
        f"/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{nhs}",
        f"/fhir/Patient/{nhs}/$everything",
        f"/fhir/MedicationStatement?patient={nhs}",
        f"/fhir/Observation?patient=Patient/{nhs}",
    ]


@pytest.mark.parametrize("index", range(5))
def test_no_token_is_401(fhir_ready, index):
    response = fhir_ready.get(fhir_routes(fhir_ready.patient)[index], token=None)
    assert_operation_outcome(response, 401, "login", "missing-token")
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(response)


def test_bad_token_is_401(fhir_ready):
    response = fhir_ready.get(f"/fhir/Patient/{fhir_ready.patient}", token="not.a.jwt")
    assert_operation_outcome(response, 401, "login")
    assert fhir_ready.token[:20] not in response.text


@pytest.mark.parametrize("index", range(5))
def test_other_patients_token_is_403(fhir_ready, index):
    response = fhir_ready.get(fhir_routes(fhir_ready.patient)[index], token=fhir_ready.other_token)
    assert_operation_outcome(response, 403, "forbidden", "no-legitimate-relationship")
    assert fhir_ready.patient not in response.text, "the error repeats the NHS number"


@pytest.mark.parametrize("route", [
    "/fhir/Patient/{bad}", "/fhir/Patient/{bad}/$everything", "/fhir/Condition?patient={bad}",
    "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{bad}", "/fhir/Patient/12345",
])
def test_invalid_nhs_number_is_400(fhir_ready, route):
    response = fhir_ready.get(route.format(bad=BAD_CHECK_DIGIT))
    assert_operation_outcome(response, 400, "invalid", "invalid-nhs-number")


@pytest.mark.parametrize("route", [
    "/fhir/Condition", "/fhir/Patient/{nhs}/$everything?_count=-1", "/fhir/Patient/{nhs}/$everything?_count=x",
    "/fhir/Patient/{nhs}/$everything?_offset=-1", "/fhir/Patient/{nhs}/$everything?start=yesterday",
    "/fhir/Patient/{nhs}/$everything?_type=Spaceship",
    "/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.2.1.4.1%7C{nhs}",
])
def test_bad_parameters_are_400(fhir_ready, route):
    response = fhir_ready.get(route.format(nhs=fhir_ready.patient))
    assert_operation_outcome(response, 400, "invalid")


def test_unknown_type_is_404(fhir_ready):
    response = fhir_ready.get(f"/fhir/Spaceship?patient={fhir_ready.patient}")
    outcome = assert_operation_outcome(response, 404)
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "unknown-resource-type"


@pytest.mark.parametrize("route", ["/fhir/Patient/{nhs}/$nothing", "/fhir/Patient/{nhs}/x/y"])
def test_unknown_route_is_404_outcome(fhir_ready, route):
    response = fhir_ready.get(route.format(nhs=fhir_ready.patient))
    assert_operation_outcome(response, 404)


@pytest.mark.parametrize("route", ["/fhir/Patient/{nhs}/x/y", "/v1/nothing", "/fhir"])
def test_unknown_route_is_404(fhir_ready, route):
    response = fhir_ready.get(route.format(nhs=fhir_ready.patient))
    assert response.status_code == 404, describe(response)


@pytest.mark.parametrize("route", ["/fhir/metadata", "/fhir/Patient/{nhs}", "/fhir/Patient/{nhs}/$everything"])
def test_unproducible_format_is_406(fhir_ready, route):
    response = fhir_ready.get(route.format(nhs=fhir_ready.patient), params={"_format": "text/csv"})
    assert_operation_outcome(response, 406, "not-supported", "unsupported-format")
    response = fhir_ready.get(route.format(nhs=fhir_ready.patient), headers={"Accept": "text/csv"})
    assert_operation_outcome(response, 406, "not-supported", "unsupported-format")


def test_xml_error(fhir_ready):
    response = fhir_ready.get(f"/fhir/Patient/{fhir_ready.patient}", token=None, params={"_format": "xml"})
    assert response.status_code == 401, describe(response)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(response)
    root = parse_fhir_xml(response)
    assert root.tag == f"{FHIR_NS}OperationOutcome", describe(response)
    issue = root.find(f"{FHIR_NS}issue")
    assert issue is not None, describe(response)
    assert issue.find(f"{FHIR_NS}severity").get("value") == "error"
    assert issue.find(f"{FHIR_NS}code").get("value") == "login"
    coding = issue.find(f"{FHIR_NS}details/{FHIR_NS}coding")
    assert coding.find(f"{FHIR_NS}system").get("value") == ERROR_SYSTEM
    assert coding.find(f"{FHIR_NS}code").get("value") == "missing-token"


def test_xml_error_by_accept(fhir_ready):
    response = fhir_ready.get(f"/fhir/Patient/{fhir_ready.patient}", token=fhir_ready.other_token,
                              headers={"Accept": "application/fhir+xml"})
    assert response.status_code == 403, describe(response)
    root = parse_fhir_xml(response)
    assert root.tag == f"{FHIR_NS}OperationOutcome"
    assert root.find(f"{FHIR_NS}issue/{FHIR_NS}code").get("value") == "forbidden"


def test_xml_resources(fhir_ready):
    for params, headers in [({"_format": "xml"}, None), (None, {"Accept": "application/fhir+xml"})]:
        response = fhir_ready.get("/fhir/metadata", token=None, params=params, headers=headers)
        assert response.status_code == 200, describe(response)
        assert parse_fhir_xml(response).tag == f"{FHIR_NS}CapabilityStatement"
    response = fhir_ready.get(f"/fhir/Patient/{fhir_ready.patient}/$everything", params={"_format": "xml", "_count": 5})
    assert response.status_code == 200, describe(response)
    root = parse_fhir_xml(response)
    assert root.tag == f"{FHIR_NS}Bundle"
    assert root.find(f"{FHIR_NS}type").get("value") == "searchset"
    assert int(root.find(f"{FHIR_NS}total").get("value")) > 5
    relations = [l.find(f"{FHIR_NS}relation").get("value") for l in root.findall(f"{FHIR_NS}link")]
    assert "next" in relations, relations


def test_opted_out_is_403_suppressed(fhir_ready):
    """The other token's own patient, put on the opt-out registry for the length of this test."""
    other = token_claims(fhir_ready.other_token)["patient"]
    assert other != fhir_ready.patient
    before = fhir_ready.get(f"/fhir/Patient/{other}", token=fhir_ready.other_token)
    assert before.status_code in (200, 404), describe(before)
    put = fhir_ready.request("PUT", f"/admin/opt-outs/{other}", fhir_ready.admin_token)
    assert put.status_code in (200, 201), describe(put)
    try:
        for route in (f"/fhir/Patient/{other}", f"/fhir/Patient/{other}/$everything",
                      f"/fhir/Condition?patient={other}"):
            response = fhir_ready.get(route, token=fhir_ready.other_token)
            assert_operation_outcome(response, 403, "suppressed", "suppressed")
    finally:
        if put.status_code == 201:
            removed = fhir_ready.request("DELETE", f"/admin/opt-outs/{other}", fhir_ready.admin_token)
            assert removed.status_code == 204, describe(removed)
