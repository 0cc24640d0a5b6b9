"""Concurrency limit, injected faults, admin API, metadata catalog and governance limits."""

from __future__ import annotations

import threading

import httpx
import pytest

from resolve_sync_tests.sandbox_helpers import ADMIN_TOKEN, OAuthlibTBA, admin, suiteql

QUERY = "SELECT id FROM customer"


def test_the_request_over_the_limit_gets_429(sandbox_server) -> None:
    limit = 3
    with admin(sandbox_server.base_url) as control:
        control.post("/_sandbox/settings", json={"concurrency_limit": limit})
        control.post("/_sandbox/latency", json={"per_request_ms": 1500})
    barrier = threading.Barrier(limit + 1)
    statuses: list[int] = []

    def call() -> None:
        with httpx.Client(base_url=sandbox_server.base_url, auth=OAuthlibTBA(), timeout=30) as client:
            barrier.wait()
            statuses.append(suiteql(client, QUERY).status_code)

    threads = [threading.Thread(target=call) for _ in range(limit + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * limit + [429]
    stats = admin(sandbox_server.base_url).get("/_sandbox/stats").json()
    assert stats["peak_concurrency"] == limit
    assert stats["requests"]["/services/rest/query/v1/suiteql"] == {"200": limit, "429": 1}


def test_429_body_is_netsuites(ns: httpx.Client, sandbox_server) -> None:
    admin(sandbox_server.base_url).post("/_sandbox/faults", json={"next": ["429"]})
    response = suiteql(ns, QUERY)
    assert response.status_code == 429
    assert response.json()["o:errorDetails"] == [
        {
            "detail": "Concurrent request limit exceeded. Request blocked.",
            "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
        }
    ]
    assert suiteql(ns, QUERY).status_code == 200  # the queue is consumed


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_on_demand(ns: httpx.Client, sandbox_server, status: int) -> None:
    admin(sandbox_server.base_url).post("/_sandbox/faults", json={"next": [str(status)]})
    assert suiteql(ns, QUERY).status_code == status


def test_connection_reset_mid_body(ns: httpx.Client, sandbox_server) -> None:
    admin(sandbox_server.base_url).post("/_sandbox/faults", json={"next": ["reset"]})
    with pytest.raises(httpx.RemoteProtocolError):
        suiteql(ns, QUERY)
    assert suiteql(ns, QUERY).status_code == 200


def test_stalled_response_trips_the_client_timeout(sandbox_server) -> None:
    admin(sandbox_server.base_url).post("/_sandbox/faults", json={"next": ["stall"], "stall_seconds": 3})
    with (
        httpx.Client(base_url=sandbox_server.base_url, auth=OAuthlibTBA(), timeout=0.5) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        suiteql(client, QUERY)


def test_fault_draws_are_deterministic_given_a_seed() -> None:
    from resolve_sync.sandbox.faults import FaultPlan

    config = {"seed": 7, "rate_429": 0.2, "rate_500": 0.1, "rate_reset": 0.05}
    first = [FaultPlan.from_config(config).draw(n) for n in range(1, 500)]
    assert first == [FaultPlan.from_config(config).draw(n) for n in range(1, 500)]
    assert 60 < first.count("429") < 140 and first.count("500") > 20


def test_admin_api_needs_its_token(sandbox_server) -> None:
    for headers in ({}, {"X-Sandbox-Admin-Token": "wrong"}):
        response = httpx.get(f"{sandbox_server.base_url}/_sandbox/stats", headers=headers)
        assert response.status_code == 401
        response = httpx.post(
            f"{sandbox_server.base_url}/_sandbox/records/customers",
            headers=headers,
            json={"records": [{"id": 99, "entityid": "X"}]},
        )
        assert response.status_code == 401


def test_admin_upserts_stamp_the_sandbox_clock_and_deletes_are_recorded(
    ns: httpx.Client, sandbox_server
) -> None:
    control = admin(sandbox_server.base_url)
    assert (
        control.post("/_sandbox/clock", json={"now": "2026-11-26T08:30:00"})
        .json()["now"]
        .startswith("2026-11-26T08:3")
    )
    control.post(
        "/_sandbox/records/customers",
        json={"records": [{"id": 10, "entityid": "C10", "companyname": "Acme Renamed", "subsidiary": 2}]},
    )
    row = suiteql(
        ns,
        "SELECT companyname, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24') AS h FROM customer WHERE id = 10",
    ).json()["items"][0]
    assert row["companyname"] == "Acme Renamed" and row["h"] == "2026-11-26 08"
    assert control.delete("/_sandbox/records/invoices/100").json() == {"deleted": True}
    assert suiteql(ns, "SELECT id FROM transaction WHERE id = 100").json()["count"] == 0
    deleted = suiteql(ns, "SELECT recordid, recordtypeid FROM deletedrecord").json()["items"]
    assert deleted == [{"links": [], "recordid": "100", "recordtypeid": "invoice"}]
    bad = control.post("/_sandbox/records/customers", json={"records": [{"id": "x", "entityid": "X"}]})
    assert bad.status_code == 400 and "integer" in bad.json()["error"]


def test_metadata_catalog_shows_customer_checkboxes_as_booleans(ns: httpx.Client) -> None:
    response = ns.get(
        "/services/rest/record/v1/metadata-catalog/customer", headers={"Accept": "application/schema+json"}
    )
    assert response.status_code == 200
    properties = response.json()["properties"]
    assert properties["custentity_sync_to_resolve"]["type"] == "boolean"
    assert properties["custentity_region"]["type"] == "string"
    assert "custentity_vendor_only" not in properties


def test_governance_limits(ns: httpx.Client) -> None:
    response = ns.get("/services/rest/system/v1/governanceLimits")
    assert response.status_code == 200 and response.json()["accountConcurrencyLimit"] == 5


def test_unknown_paths_and_write_methods_are_refused(ns: httpx.Client) -> None:
    assert ns.get("/services/rest/record/v1/customer/10").status_code == 404
    assert ns.put("/services/rest/query/v1/suiteql", json={}).status_code == 405
    assert ADMIN_TOKEN not in ns.get("/nope").text
