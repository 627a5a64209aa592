"""schemas/openapi.yaml against the running gateway: the spec is valid OpenAPI, names every route the gateway
registers, and every response to a list of concrete requests (successes and errors, on every route) matches the
spec's status codes, headers, content types and schemas (openapi-core)."""

import json
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_spec_validator import validate as validate_spec

from conftest import CLINICAL_TYPES, describe, token_claims

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "schemas" / "openapi.yaml"
EXERCISED = set()
SPEC_PATHS = list(yaml.safe_load(SPEC_PATH.read_text())["paths"])


def _json(data, **_parameters):  # parameters: the media type's, e.g. charset
    return json.loads(data)


def _xml(data, **_parameters):
    text = data.decode() if isinstance(data, bytes) else data
    ET.fromstring(text)  # well-formed, or the validation fails
    return text


@pytest.fixture(scope="module")
def spec_dict():
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def api(spec_dict, gateway):
    spec = json.loads(json.dumps(spec_dict))
    spec["servers"] = [{"url": gateway.base}]
    return OpenAPI.from_dict(spec, config=Config(extra_media_type_deserializers={
        "application/fhir+json": _json, "application/fhir+xml": _xml}))


def test_spec_is_valid_openapi(spec_dict):
    validate_spec(spec_dict)


def test_spec_names_every_registered_route(spec_dict):
    """Route strings registered in Sources/GatewayServer, as OpenAPI paths, must be in the spec."""
    sources = ROOT / "Sources" / "GatewayServer"
    if not sources.is_dir():
        pytest.skip("no Sources/GatewayServer next to the tests")
    paths = set(spec_dict["paths"])
    missing = []
    for swift in sources.glob("*.swift"):
        text = swift.read_text()
        for group in re.findall(r'router\.group\("(/[^"]*)"\)', text):
            if not any(p == group or p.startswith(group + "/") for p in paths):
                missing.append(f"{swift.name}: group {group}")
        for route in re.findall(r'router\.(?:get|put|post|delete|patch)\("(/[^"]*)"', text):
            path = re.sub(r":(\w+)", r"{\1}", route)
            if path not in paths:
                missing.append(f"{swift.name}: {route} (as {path})")
    assert not missing, "routes registered but not in schemas/openapi.yaml: " + ", ".join(sorted(missing))


def requests_to_check(gateway):
    nhs, bad = gateway.patient, "9993529894"
    clinician, other, admin = "default", gateway.other_token, gateway.admin_token
    cases = [
        # records
        ("GET", f"/v1/patients/{nhs}/record", clinician, {}, {}, 200),
        ("GET", f"/v1/patients/{nhs}/record", clinician, {"category": "medication,allergy"}, {}, 200),
        ("GET", f"/v1/patients/{nhs}/record", clinician, {}, {"CareGate-Deadline-Ms": "1500"}, 200),
        ("GET", f"/v1/patients/{nhs}/record", None, {}, {}, 401),
        ("GET", f"/v1/patients/{nhs}/record", "not-a-token", {}, {}, 401),
        ("GET", f"/v1/patients/{nhs}/record", other, {}, {}, 403),
        ("GET", f"/v1/patients/{nhs}/record", other, {}, {"CareGate-Break-Glass-Reason": "test"}, 403),
        ("GET", f"/v1/patients/{bad}/record", clinician, {}, {}, 400),
        ("GET", f"/v1/patients/{nhs}/record", clinician, {"category": "bogus"}, {}, 400),
        ("GET", f"/v1/patients/{nhs}/record", clinician, {}, {"CareGate-Deadline-Ms": "0"}, 400),
        # FHIR
        ("GET", "/fhir/metadata", None, {}, {}, 200),
        ("GET", "/fhir/metadata", None, {"_format": "xml"}, {}, 200),
        ("GET", "/fhir/metadata", None, {}, {"Accept": "application/fhir+xml"}, 200),
        ("GET", "/fhir/metadata", None, {"_format": "text/csv"}, {}, 406),
        ("GET", f"/v1/patients/{nhs}/record/stream", clinician, {}, {}, 200),
        ("GET", f"/v1/patients/{nhs}/record/stream", None, {}, {}, 401),
        ("GET", f"/v1/patients/{nhs}/record/stream", other, {}, {}, 403),
        ("GET", f"/fhir/Patient/{nhs}", clinician, {}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}", clinician, {"_format": "xml"}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}", None, {}, {}, 401),
        ("GET", f"/fhir/Patient/{nhs}", None, {"_format": "xml"}, {}, 401),
        ("GET", f"/fhir/Patient/{nhs}", other, {}, {}, 403),
        ("GET", f"/fhir/Patient/{bad}", clinician, {}, {}, 400),
        ("GET", f"/fhir/Patient/{nhs}", clinician, {"_format": "text/csv"}, {}, 406),
        ("GET", "/fhir/Patient", clinician, {"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{nhs}"}, {}, 200),
        ("GET", "/fhir/Patient", clinician, {}, {}, 400),
        ("GET", "/fhir/Patient", other, {"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{nhs}"}, {}, 403),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician, {}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician, {"_count": "10", "_offset": "10"}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician,
         {"_type": "Observation,DiagnosticReport", "start": "2020-01-01", "end": "2030-12-31"}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician, {"_since": "2025-01-01"}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician, {"_format": "xml", "_count": "5"}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician, {"_count": "-1"}, {}, 400),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician, {"_count": "0"}, {}, 200),
        ("GET", f"/fhir/Patient/{nhs}/$everything", None, {}, {}, 401),
        ("GET", f"/fhir/Patient/{nhs}/$everything", other, {}, {}, 403),
        ("GET", f"/fhir/Patient/{nhs}/$everything", clinician, {}, {"Accept": "text/csv"}, 406),
        ("GET", "/fhir/Observation", clinician, {"patient": f"Patient/{nhs}"}, {}, 200),
        ("GET", "/fhir/Observation", clinician, {}, {}, 400),
        ("GET", "/fhir/Observation", None, {"patient": nhs}, {}, 401),
        ("GET", "/fhir/Observation", other, {"patient": nhs}, {}, 403),
        ("GET", "/fhir/Observation", clinician, {"patient": bad}, {}, 400),
        ("GET", "/fhir/Spaceship", clinician, {"patient": nhs}, {}, 404),
        # admin
        ("GET", "/admin/providers", admin, {}, {}, 200),
        ("GET", "/admin/providers", None, {}, {}, 401),
        ("GET", "/admin/providers", clinician, {}, {}, 403),
        ("GET", "/admin/providers/gp", admin, {}, {}, 200),
        ("GET", "/admin/providers/no-such-provider", admin, {}, {}, 404),
        ("GET", "/admin/providers/Not_Valid", admin, {}, {}, 400),
        ("PUT", "/admin/providers/gp", admin, {}, {"Content-Type": "application/yaml"}, 400),
        ("DELETE", "/admin/providers/no-such-provider", admin, {}, {}, 404),
        ("GET", "/admin/providers/gp/history", admin, {}, {}, 404),  # no change log in this run
        ("POST", "/admin/providers/gp/reset", admin, {}, {}, 404),  # nothing to reset
        ("POST", "/admin/providers/gp/reset", other, {}, {}, 403),  # a clinician, not an operator
        ("GET", "/admin/providers/gp/history", clinician, {}, {}, 403),
        ("POST", "/admin/providers/no-such-provider/check", admin, {}, {}, 404),
        ("POST", "/admin/providers/gp/check", other, {}, {}, 403),
        ("GET", "/admin/opt-outs", admin, {}, {}, 200),
        ("GET", "/admin/opt-outs", clinician, {}, {}, 403),
        ("GET", f"/admin/opt-outs/{nhs}", admin, {}, {}, 404),
        ("GET", f"/admin/opt-outs/{bad}", admin, {}, {}, 400),
        ("DELETE", f"/admin/opt-outs/{bad}", admin, {}, {}, 400),
        ("GET", "/admin/audit", admin, {"patient": nhs}, {}, 200),
        ("GET", "/admin/audit", admin, {}, {}, 400),
        ("GET", "/admin/audit", admin, {"patient": bad}, {}, 400),
        ("GET", "/admin/audit", admin, {"purpose": "emergency"}, {}, 200),
        ("GET", "/admin/audit", admin, {"purpose": "emergency", "since": "2026-01-01", "after": "0"}, {}, 200),
        ("GET", "/admin/audit", admin, {"purpose": "direct-care"}, {}, 400),
        ("GET", "/admin/audit", admin, {"purpose": "emergency", "since": "last week"}, {}, 400),
        ("GET", "/admin/audit", clinician, {"patient": nhs}, {}, 403),
        ("GET", "/admin/audit", admin, {"purpose": "emergency", "reviewed": "false"}, {}, 200),
        ("GET", "/admin/audit", admin, {"purpose": "emergency", "reviewed": "maybe"}, {}, 400),
        ("GET", "/admin/audit", admin, {"user": "demo-r8000"}, {}, 200),
        ("GET", "/admin/audit", admin, {"user": "demo-r8000", "since": "2026-01-01", "after": "0"}, {}, 200),
        ("GET", "/admin/audit", admin, {"patient": nhs, "since": "2026-01-01", "until": "2099-01-01"}, {}, 200),
        ("GET", "/admin/audit", admin, {"user": "demo-r8000", "until": "next week"}, {}, 400),
        ("GET", "/admin/audit", admin, {"user": ""}, {}, 400),
        ("GET", "/admin/audit", admin, {"user": "demo-r8000", "patient": nhs}, {}, 400),
        ("GET", "/admin/audit", clinician, {"user": "demo-r8000"}, {}, 403),
        ("GET", "/admin/audit/verification", admin, {}, {}, 200),
        ("GET", "/admin/audit/users", admin, {}, {}, 200),
        ("GET", "/admin/audit/users", admin, {"since": "2026-01-01", "until": "2026-02-01", "limit": "10"}, {}, 200),
        ("GET", "/admin/audit/users", admin, {"limit": "0"}, {}, 400),
        ("GET", "/admin/audit/users", clinician, {}, {}, 403),
        ("GET", "/admin/audit/verification", clinician, {}, {}, 403),
        ("GET", "/admin/audit/999999/reviews", admin, {}, {}, 404),
        ("GET", "/admin/audit/first/reviews", admin, {}, {}, 400),
        ("POST", "/admin/audit/999999/reviews", admin, {}, {"Content-Type": "application/json"}, 404),
        ("POST", "/admin/audit/999999/reviews", other, {}, {"Content-Type": "application/json"}, 403),
        # operations
        ("GET", "/healthz", None, {}, {}, 200),
        ("GET", "/readyz", None, {}, {}, 200),
        ("GET", "/metrics", None, {}, {}, 200),
        ("GET", "/status", None, {}, {}, 200),
        ("GET", "/status.json", None, {}, {}, 200),
    ]
    cases += [("GET", f"/fhir/{t}", clinician, {"patient": nhs, "_count": "3"}, {}, 200) for t in CLINICAL_TYPES]
    return cases


def _id(case):
    method, path, token, params, headers, status = case
    who = {None: "anon", "default": "clinician"}.get(token, "token")
    extra = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{method} {path}{'?' + extra if extra else ''} {who} {status}"


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        from conftest import Gateway
        cases = requests_to_check(Gateway())
        metafunc.parametrize("case", cases, ids=[_id(c) for c in cases])


def validate(api, response):
    EXERCISED.add((response.request.method.lower(), _template(response.request.path_url.split("?")[0])))
    details = None
    try:
        api.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
    except Exception as error:  # noqa: BLE001 - report any mismatch with its schema errors
        details = [f"{type(error).__name__}: {str(error)[:300]}"]
        cause = error.__cause__ or error.__context__
        while cause is not None:
            for schema_error in getattr(cause, "schema_errors", ()) or ():
                path = "/".join(str(p) for p in schema_error.absolute_path)
                details.append(f"at /{path}: {schema_error.message[:300]}")
            if not getattr(cause, "schema_errors", None):
                details.append(f"{type(cause).__name__}: {str(cause)[:300]}")
            cause = cause.__cause__ or cause.__context__
    if details:
        pytest.fail(f"response does not match schemas/openapi.yaml: {describe(response)}\n  " + "\n  ".join(details),
                    pytrace=False)


def test_response_matches_spec(api, gateway, case):
    method, path, token, params, headers, status = case
    if method == "GET":
        response = gateway.get(path, token=token, params=params, headers=headers)
    else:
        body = "id: other-id\n" if method == "PUT" else None
        response = gateway.session.request(
            method, gateway.base + path, params=params, data=body, timeout=30,
            headers={**headers, **({"Authorization": f"Bearer {token}"} if token else {})})
    assert response.status_code == status, describe(response)
    validate(api, response)


def _template(path):
    """The spec's path template a concrete path falls under (literal paths win over templated ones)."""
    templates = sorted(SPEC_PATHS, key=lambda t: t.count("{"))
    for template in templates:
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    return path


def test_opt_out_round_trip_matches_spec(api, gateway):
    """PUT, GET, list and DELETE an opt-out (the other token's patient, removed again at the end)."""
    other = token_claims(gateway.other_token)["patient"]
    admin = gateway.admin_token
    put = gateway.request("PUT", f"/admin/opt-outs/{other}", admin)
    assert put.status_code in (200, 201), describe(put)
    validate(api, put)
    try:
        again = gateway.request("PUT", f"/admin/opt-outs/{other}", admin)
        assert again.status_code == 200, describe(again)
        validate(api, again)
        one = gateway.request("GET", f"/admin/opt-outs/{other}", admin)
        assert one.status_code == 200 and one.json()["nhsNumber"] == other, describe(one)
        validate(api, one)
        listed = gateway.request("GET", "/admin/opt-outs", admin)
        assert other in [o["nhsNumber"] for o in listed.json()["optOuts"]], describe(listed)
        validate(api, listed)
        refused = gateway.get(f"/v1/patients/{other}/record", token=gateway.other_token)
        assert refused.status_code == 403 and refused.json()["issue"][0]["code"] == "suppressed", describe(refused)
        validate(api, refused)
    finally:
        if put.status_code == 201:
            removed = gateway.request("DELETE", f"/admin/opt-outs/{other}", admin)
            assert removed.status_code == 204, describe(removed)
            validate(api, removed)
            gone = gateway.request("DELETE", f"/admin/opt-outs/{other}", admin)
            assert gone.status_code == 404, describe(gone)
            validate(api, gone)


def test_provider_check_matches_spec(api, gateway):
    """The admin API's provider check: a report for a test patient, and a 400 for a malformed request."""
    checked = gateway.request("POST", "/admin/providers/gp/check", gateway.admin_token,
                              json={"patients": [gateway.patient]})
    assert checked.status_code == 200 and checked.json()["passed"] is True, describe(checked)
    validate(api, checked)
    refused = gateway.request("POST", "/admin/providers/gp/check", gateway.admin_token, json={"patients": []})
    assert refused.status_code == 400, describe(refused)
    validate(api, refused)


def test_break_glass_review_round_trip_matches_spec(api, gateway):
    """A break-glass query, reviewed by an operator: listed as awaiting, reviewed (201), then listed as reviewed with
    the review as an extension; refused for a direct-care record (409) and for a bad outcome (400)."""
    emergency = gateway.emergency_token
    reason = {"CareGate-Break-Glass-Reason": "interop test: collapsed, no history"}
    broke = gateway.get(f"/v1/patients/{gateway.patient}/record", token=emergency, headers=reason)
    assert broke.status_code == 200, describe(broke)
    admin = gateway.admin_token
    awaiting = gateway.get("/admin/audit", token=admin, params={"purpose": "emergency", "reviewed": "false"})
    assert awaiting.status_code == 200, describe(awaiting)
    validate(api, awaiting)
    ids = [e["resource"]["id"] for e in awaiting.json()["entry"]
           if e["resource"]["entity"][0]["what"]["identifier"]["value"] == gateway.patient]
    assert ids, "the break-glass query is not listed as awaiting review"

    made = gateway.request("POST", f"/admin/audit/{ids[-1]}/reviews", admin,
                           json={"outcome": "appropriate", "note": "interop test"})
    assert made.status_code == 201 and made.json()["outcome"] == "appropriate", describe(made)
    validate(api, made)
    listed = gateway.request("GET", f"/admin/audit/{ids[-1]}/reviews", admin)
    assert listed.status_code == 200 and listed.json()["reviews"][-1]["note"] == "interop test", describe(listed)
    validate(api, listed)
    reviewed = gateway.get("/admin/audit", token=admin, params={"purpose": "emergency", "reviewed": "true"})
    assert reviewed.status_code == 200, describe(reviewed)
    validate(api, reviewed)
    events = {e["resource"]["id"]: e["resource"] for e in reviewed.json()["entry"]}
    assert ids[-1] in events, describe(reviewed)
    review = events[ids[-1]]["extension"][0]
    assert {p["url"]: p for p in review["extension"]}["outcome"]["valueCode"] == "appropriate"

    bad = gateway.request("POST", f"/admin/audit/{ids[-1]}/reviews", admin, json={"outcome": "fine"})
    assert bad.status_code == 400, describe(bad)
    validate(api, bad)
    direct = gateway.get("/admin/audit", token=admin, params={"patient": gateway.patient})
    direct_ids = [e["resource"]["id"] for e in direct.json()["entry"]
                  if e["resource"]["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"]
    refused = gateway.request("POST", f"/admin/audit/{direct_ids[0]}/reviews", admin, json={"outcome": "appropriate"})
    assert refused.status_code == 409, describe(refused)
    validate(api, refused)


def test_security_matches_spec(spec_dict, gateway):
    """Routes the spec marks public answer without a token; every other GET answers 401 with a challenge."""
    nhs = gateway.patient
    examples = {"nhs": nhs, "id": "gp", "type": "Condition", "sequence": "1"}
    query = {"/admin/audit": {"patient": nhs}, "/fhir/Patient": {"identifier": nhs}, "/fhir/{type}": {"patient": nhs}}
    problems = []
    for template, item in spec_dict["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        public = operation.get("security", spec_dict.get("security")) == []
        path = re.sub(r"\{(\w+)\}", lambda m: examples[m.group(1)], template)
        response = gateway.get(path, token=None, params=query.get(template))
        if public and response.status_code == 401:
            problems.append(f"{template} is public in the spec but answered 401")
        if not public and (response.status_code != 401 or "WWW-Authenticate" not in response.headers):
            problems.append(f"{template} needs a token in the spec but answered {response.status_code}")
    assert not problems, "; ".join(problems)


def test_every_operation_exercised(spec_dict):
    """Runs last (file order): each operation in the spec had at least one response checked."""
    if not EXERCISED:
        pytest.skip("the response checks did not run")
    missing = []
    for template, item in spec_dict["paths"].items():
        for method in ("get", "put", "delete", "post", "patch"):
            if method in item and (method, template) not in EXERCISED:
                missing.append(f"{method.upper()} {template}")
    assert not missing, "operations no check exercised: " + ", ".join(missing)
