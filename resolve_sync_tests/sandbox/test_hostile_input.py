"""Every input an attacker sent that once got a 500 (or worse), replayed as an attacker would: real HTTP over
a socket to a running sandbox, and `resolve-sync sandbox serve` as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from resolve_sync.sandbox import query_budget
from resolve_sync.sandbox.fixture import FixtureError, parse_fixture
from resolve_sync_tests.sandbox_helpers import (
    ADMIN_TOKEN,
    OAuthlibTBA,
    admin,
    fixture_dict,
    many_customers_fixture,
    suiteql,
)

CLI = str(Path(sys.executable).parent / "resolve-sync")
QUERY = "SELECT id FROM customer"
DEEP = ("[" * 100_000 + "]" * 100_000).encode()


def _netsuite_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and body["title"]
    [detail] = body["o:errorDetails"]
    assert detail["o:errorCode"] == code and detail["detail"]
    return detail


def _admin_refused(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 400, response.text
    message = response.json()["error"]
    for word in words:
        assert word in message, message


# -- bodies -------------------------------------------------------------------------------------------------


def test_deeply_nested_suiteql_body_is_a_netsuite_400(ns: httpx.Client) -> None:
    for body in (DEEP, b'{"q": ' + DEEP + b"}"):
        response = ns.post(
            "/services/rest/query/v1/suiteql",
            content=body,
            headers={"Prefer": "transient", "Content-Type": "application/json"},
        )
        _netsuite_error(response, 400, "INVALID_PARAMETER")
    assert suiteql(ns, QUERY).status_code == 200


def test_deeply_nested_admin_body_is_refused(sandbox_server) -> None:
    with admin(sandbox_server.base_url) as control:
        for path in ("/_sandbox/records/customers", "/_sandbox/faults", "/_sandbox/clock"):
            _admin_refused(control.post(path, content=DEEP), "nested")


def test_an_oversized_body_is_refused_before_it_is_read(ns: httpx.Client, sandbox_server) -> None:
    response = ns.post(
        "/services/rest/query/v1/suiteql",
        content=b" " * (2 << 20),
        headers={"Prefer": "transient"},
    )
    _netsuite_error(response, 413, "INVALID_CONTENT")
    token = httpx.post(
        f"{sandbox_server.base_url}/services/rest/auth/oauth2/v1/token", content=b"a" * (1 << 20)
    )
    _netsuite_error(token, 413, "INVALID_CONTENT")


# -- the admin API ------------------------------------------------------------------------------------------


def test_a_non_ascii_admin_token_is_a_401(sandbox_server) -> None:
    for sent in ("tökén-ünicode-wrong".encode(), (ADMIN_TOKEN + "é").encode(), b"\xff\xfe"):
        response = httpx.get(
            f"{sandbox_server.base_url}/_sandbox/stats", headers={"X-Sandbox-Admin-Token": sent}
        )
        assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "body", [b"null", b"[1]", b'"faults"', b"1e999", b'{"rate_500": "x"}', b'{"next": "500"}']
)
def test_fault_bodies_of_the_wrong_type_are_refused(sandbox_server, ns: httpx.Client, body: bytes) -> None:
    with admin(sandbox_server.base_url) as control:
        assert control.put("/_sandbox/faults", content=body).status_code == 400
    assert suiteql(ns, QUERY).status_code == 200  # nothing was stored


def test_an_absurd_clock_advance_is_refused_and_the_clock_keeps_working(sandbox_server, ns) -> None:
    with admin(sandbox_server.base_url) as control:
        before = control.get("/_sandbox/clock").json()["now"]
        _admin_refused(control.post("/_sandbox/clock", json={"advance_seconds": 1e20}), "advance_seconds")
        _admin_refused(control.post("/_sandbox/clock", json={"advance_seconds": "60"}), "number")
        _admin_refused(
            control.post("/_sandbox/clock", json={"now": "9999-12-31T23:59:59-12:00"}), "out of range"
        )
        _admin_refused(control.post("/_sandbox/clock", json={"now": 5}), "ISO")
        both = {"now": "9000-01-01T00:00:00", "advance_seconds": 1e11}  # each fine, together too far
        _admin_refused(control.post("/_sandbox/clock", json=both), "clock")
        after = control.get("/_sandbox/clock")
    assert after.status_code == 200 and after.json()["now"][:13] == before[:13]  # unchanged
    assert suiteql(ns, "SELECT SYSDATE FROM customer WHERE ROWNUM <= 1").status_code == 200


def test_an_upsert_with_a_string_for_custom_is_refused_and_stores_nothing(sandbox_server, ns) -> None:
    with admin(sandbox_server.base_url) as control:
        response = control.post(
            "/_sandbox/records/customers",
            json={
                "records": [{"id": 500, "entityid": "C500"}, {"id": 501, "entityid": "C501", "custom": "str"}]
            },
        )
    _admin_refused(response, "custom")
    assert suiteql(ns, "SELECT id FROM customer WHERE id >= 500").json()["count"] == 0


@pytest.mark.parametrize(
    "record",
    [
        {"id": 10**30, "entityid": "C"},
        {"id": 5, "entityid": {"nested": 1}},
        {"id": 5, "entityid": "C", "lastmodifieddate": "0001-01-01T00:00:00+05:00"},
        {"id": 5, "entityid": "C", "parent": "²"},
        {"id": 5, "entityid": "C", "companyname": 2**64},
        {"id": 5, "entityid": "C", "currency": ["USD"]},
        {"id": 5, "entityid": "C", "custom": {"custentity_region": {"a": 1}}},
        {"id": 5, "entityid": "C", "custom": {"custentity_sync_to_resolve": None, "x": [1]}},
    ],
)
def test_upserts_with_unstorable_values_are_refused(sandbox_server, record: dict) -> None:
    with admin(sandbox_server.base_url) as control:
        assert control.post("/_sandbox/records/customers", json={"records": [record]}).status_code == 400


def test_invoice_amounts_must_be_finite_numbers(sandbox_server) -> None:
    invoice = {"id": 900, "tranid": "I", "trandate": "2026-01-01", "entity": 10}
    with admin(sandbox_server.base_url) as control:
        # Any finite double is servable (the sync's own guard judges it); what is not a finite number is refused.
        for total in ("inf", "nan", "1e400", "1" * 5000, True):
            response = control.post("/_sandbox/records/invoices", json=[{**invoice, "foreigntotal": total}])
            _admin_refused(response, "foreigntotal")


def test_deleting_a_huge_id_is_refused(sandbox_server) -> None:
    with admin(sandbox_server.base_url) as control:
        _admin_refused(control.delete("/_sandbox/records/customers/" + "9" * 40), "internal id")
        assert control.delete("/_sandbox/records/customers/424242").status_code == 404
        assert control.delete("/_sandbox/records/customers/10").status_code == 200


def test_a_bad_latency_is_refused_and_cannot_poison_later_requests(sandbox_server, ns) -> None:
    with admin(sandbox_server.base_url) as control:
        for body in (
            {"per_request_ms": "x"},
            {"per_request_ms": -1},
            {"per_request_ms": 1e12},
            {"jitter": 2},
            {"seed": 1.5},
            {"per_row_ms": None},
            {"unknown": 1},
        ):
            _admin_refused(control.put("/_sandbox/latency", json=body), "latency")
        assert control.put("/_sandbox/latency", content=b"[1]").status_code == 400
    assert suiteql(ns, QUERY).status_code == 200
    assert ns.get("/services/rest/system/v1/governanceLimits").status_code == 200


def test_settings_are_checked(sandbox_server, ns) -> None:
    with admin(sandbox_server.base_url) as control:
        for value in (0, "5", 1.5, True, 10**20, None):
            _admin_refused(
                control.put("/_sandbox/settings", json={"concurrency_limit": value}), "concurrency_limit"
            )
        assert control.put("/_sandbox/settings", json={"concurrency_limit": 7}).json() == {
            "concurrency_limit": 7
        }
    assert suiteql(ns, QUERY).status_code == 200


# -- NetSuite's routes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params", [{"limit": "²"}, {"offset": "²"}, {"limit": "9" * 5000}, {"offset": "9" * 5000}]
)
def test_odd_paging_parameters_are_netsuite_400s(ns: httpx.Client, params: dict) -> None:
    response = ns.post(
        "/services/rest/query/v1/suiteql", params=params, json={"q": QUERY}, headers={"Prefer": "transient"}
    )
    _netsuite_error(response, 400, "INVALID_PARAMETER")


def test_hostile_auth_headers_are_invalid_logins(sandbox_server) -> None:
    url = f"{sandbox_server.base_url}/services/rest/query/v1/suiteql"
    headers = {"Prefer": "transient"}
    for authorization in (
        'OAuth realm="1234567_SB1", oauth_signature="s\xefg", oauth_consumer_key="ck-test", oauth_token="tk-test"',
        'OAuth realm="1234567_SB1", oauth_signature_method="HMAC-SHA256", oauth_consumer_key="ck-t\xe9st"',
        'OAuth realm="1234567_SB1", oauth_signature_method="HMAC-SHA256", oauth_consumer_key="ck-test", '
        'oauth_token="tk-test", oauth_timestamp="' + "9" * 4000 + '"',
        'OAuth realm="1234567_SB1", oauth_signature_method="HMAC-SHA256", oauth_consumer_key="ck-test", '
        'oauth_token="tk-test", oauth_timestamp="1", oauth_signature="%zz"',
        "OAuth ,,,==",
        "Bearer \xff\xfe",
    ):
        response = httpx.post(
            url, json={"q": QUERY}, headers={**headers, "Authorization": authorization.encode("latin-1")}
        )
        _netsuite_error(response, 401, "INVALID_LOGIN")


def test_a_hostile_host_header_is_not_a_500(sandbox_server) -> None:
    for host in ("[", "a b", "x:99999999", "[::1"):
        with httpx.Client(base_url=sandbox_server.base_url, auth=OAuthlibTBA(), timeout=30) as client:
            # Signed for the real host, so it may be refused; never a 500.
            response = client.post(
                "/services/rest/query/v1/suiteql",
                json={"q": QUERY},
                headers={"Prefer": "transient", "Host": host},
            )
            assert response.status_code in (200, 400, 401), (host, response.text)
        token = httpx.post(
            f"{sandbox_server.base_url}/services/rest/auth/oauth2/v1/token",
            data={"grant_type": "client_credentials"},
            headers={"Host": host},
        )
        assert token.status_code == 401, (host, token.text)


def test_a_wrong_method_on_a_netsuite_route_keeps_netsuites_shape(ns: httpx.Client) -> None:
    response = ns.get("/services/rest/query/v1/suiteql")
    _netsuite_error(response, 405, "INVALID_REQUEST")
    assert "POST" in response.headers["allow"]


def test_malformed_token_requests_are_refused_as_invalid_clients(sandbox_server) -> None:
    url = f"{sandbox_server.base_url}/services/rest/auth/oauth2/v1/token"
    for body in (
        b"\xff\xfe\x00",
        b"&".join([b"a=b"] * 1000),
        b"grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type"
        b"%3Ajwt-bearer&client_assertion=eyJhbGciOiJQUzI1NiIsImtpZCI6W119.e30.x",
    ):
        response = httpx.post(
            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 401, response.text


# -- the query budget ---------------------------------------------------------------------------------------


@pytest.mark.sandbox_fixture(many_customers_fixture(2_000, concurrency_limit=1))
@pytest.mark.parametrize("tables", [4, 5])
def test_a_runaway_self_join_is_stopped_quickly_and_frees_its_slot(ns: httpx.Client, tables: int) -> None:
    aliases = [f"c{n}" for n in range(tables)]
    query = "SELECT c0.id FROM " + ", ".join(f"customer {a}" for a in aliases) + " ORDER BY c0.companyname"
    started = time.monotonic()
    response = suiteql(ns, query)
    elapsed = time.monotonic() - started
    detail = _netsuite_error(response, 400, "SSS_SEARCH_TIMEOUT")
    assert detail["o:errorQueryParam"] == "q" and "Search error occurred" in detail["detail"]
    assert elapsed < 5, elapsed  # about 0.5 s of CPU; generous for a busy shared machine
    # The account allows one request at a time: the next one would get 429 if the slot were still held.
    assert suiteql(ns, QUERY, limit=5).status_code == 200


@pytest.mark.sandbox_fixture(many_customers_fixture(2_000))
def test_cpu_time_also_bounds_a_query(ns: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Python SQL functions cost far more CPU than their steps show; the CPU limit catches them.
    monkeypatch.setattr(query_budget, "MAX_STEPS", 10**12)
    monkeypatch.setattr(query_budget, "MAX_CPU_SECONDS", 0.2)
    response = suiteql(
        ns, "SELECT TO_CHAR(a.lastmodifieddate, 'YYYY-MM-DD') AS d FROM customer a, customer b ORDER BY d"
    )
    _netsuite_error(response, 400, "SSS_SEARCH_TIMEOUT")


@pytest.mark.sandbox_fixture(many_customers_fixture(20_000))
def test_normal_paging_is_well_within_the_budget(ns: httpx.Client) -> None:
    scan = (
        "SELECT c.id, c.entityid, TO_CHAR(c.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified "
        "FROM customer c WHERE (c.lastmodifieddate > TO_TIMESTAMP('2026-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')) "
        "OR (c.lastmodifieddate = TO_TIMESTAMP('2026-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') AND c.id > 7) "
        "ORDER BY c.lastmodifieddate, c.id"
    )
    for offset in (0, 19_000):
        response = suiteql(ns, scan, limit=1000, offset=offset)
        assert response.status_code == 200, response.text
        assert response.json()["count"] == 1000


# -- the admin token ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "short", " " * 15, 12345678901234567, "tökén-tökén-tökén-1"])
def test_a_fixture_without_a_strong_admin_token_is_refused(token) -> None:
    raw = fixture_dict()
    if token is None:
        del raw["admin_token"]
    else:
        raw["admin_token"] = token
    with pytest.raises(FixtureError, match="admin_token"):
        parse_fixture(raw)


@pytest.mark.parametrize("token", [None, "", "sandbox-admin"])
def test_serve_refuses_to_start_without_a_strong_admin_token(tmp_path: Path, token) -> None:
    raw = fixture_dict()
    if token is None:
        del raw["admin_token"]
    else:
        raw["admin_token"] = token
    path = tmp_path / "account.json"
    path.write_text(json.dumps(raw))
    result = subprocess.run(
        [CLI, "sandbox", "serve", str(path), "--port", "0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stdout == ""  # no base URL: it never listened
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "admin_token" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
