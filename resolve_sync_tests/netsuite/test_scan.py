"""Scans lose nothing: past the 100,000-row cap, under faults, with equal timestamps, while rows change,
and two scans on one account stay within its concurrency limit together."""

from __future__ import annotations

import threading

import pytest

from resolve_sync.netsuite.queries import customer_scan
from resolve_sync.netsuite.scan import ScanQuery, full_scan, incremental_scan, split_ranges
from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync.store.leases import LeaseSlotPool
from resolve_sync_tests.sandbox_helpers import admin, many_customers_fixture, tba_client

ALL_CUSTOMERS = customer_scan(subsidiary_id=None, filter_field_id=None)


def _ids(pages) -> list[int]:
    return [int(row["id"]) for page in pages for row in page]


def test_split_ranges_cover_the_key_space_once() -> None:
    ranges = split_ranges(1, 1000, 1000, 7)
    covered = [k for low, high in ranges for k in range(low + 1, high + 1)]
    assert covered == list(range(1, 1001))


@pytest.mark.slow
def test_parallel_keyset_scan_past_the_100k_cap_returns_every_row_once() -> None:
    with (
        SandboxServer(parse_fixture(many_customers_fixture(250_000))) as server,
        tba_client(server) as client,
    ):
        ids = _ids(full_scan(client, ALL_CUSTOMERS))
        stats = admin(server.base_url).get("/_sandbox/stats").json()
    assert len(ids) == 250_000 and set(ids) == set(range(1, 250_001))
    assert stats["peak_concurrency"] > 1  # ranges really ran in parallel
    assert client.stats.requests <= 250 + 20  # ~one request per 1000 rows, plus the probe and range ends


@pytest.mark.sandbox_fixture(many_customers_fixture(12_000))
def test_retries_under_faults_give_exactly_the_fault_free_rows(sandbox_server) -> None:
    with tba_client(sandbox_server) as client:
        clean = sorted(_ids(full_scan(client, ALL_CUSTOMERS)))
    admin(sandbox_server.base_url).post(
        "/_sandbox/faults",
        json={"seed": 11, "rate_429": 0.15, "rate_500": 0.05, "rate_503": 0.05, "rate_reset": 0.05},
    )
    with tba_client(sandbox_server, retry=None) as client:
        client.retry.initial_seconds, client.retry.max_wait_seconds = 0.01, 0.05
        faulty = _ids(full_scan(client, ALL_CUSTOMERS))
    assert client.stats.retries > 0
    assert sorted(faulty) == clean and len(faulty) == len(set(faulty)) == 12_000


@pytest.mark.sandbox_fixture(many_customers_fixture(3_500, timestamps=1))
def test_incremental_scan_with_thousands_of_equal_timestamps_loses_nothing(sandbox_server) -> None:
    with tba_client(sandbox_server) as client:
        pages = list(incremental_scan(client, ALL_CUSTOMERS, "2026-03-01 12:00:00"))
    assert len(pages) == 4  # page boundaries fall inside one timestamp
    ids = _ids(pages)
    assert sorted(ids) == list(range(1, 3_501)) and len(ids) == len(set(ids))
    assert {row["modified_cursor"] for page in pages for row in page} == {"2026-03-01 12:00:00"}


@pytest.mark.sandbox_fixture(many_customers_fixture(3_000))
def test_incremental_scan_while_rows_change_loses_nothing(sandbox_server) -> None:
    control = admin(sandbox_server.base_url)
    control.post("/_sandbox/clock", json={"now": "2026-03-10T08:00:00"})
    seen: list[int] = []
    with tba_client(sandbox_server) as client:
        for number, page in enumerate(incremental_scan(client, ALL_CUSTOMERS, "2026-03-01 00:00:00")):
            seen += [int(row["id"]) for row in page]
            if number == 0:  # rows behind and ahead of the scan change during it
                control.post(
                    "/_sandbox/records/customers",
                    json={
                        "records": [
                            {"id": i, "entityid": f"C{i}", "companyname": f"Changed {i}", "subsidiary": 2}
                            for i in (5, 1500, 2999)
                        ]
                    },
                )
    assert set(seen) == set(range(1, 3_001))


def test_incremental_scan_excludes_rows_before_the_cursor(sandbox_server) -> None:
    with tba_client(sandbox_server) as client:
        rows = [r for page in incremental_scan(client, ALL_CUSTOMERS, "2026-03-03 00:00:00") for r in page]
    assert [r["id"] for r in rows] == ["12"]


@pytest.mark.sandbox_fixture(
    many_customers_fixture(9_000, concurrency_limit=3, latency={"per_request_ms": 40})
)
def test_two_scans_on_one_account_stay_within_its_limit(sandbox_server, store) -> None:
    results: dict[str, list[int]] = {}

    def scan(name: str) -> None:
        pool = LeaseSlotPool(store, "1234567_SB1", 3)
        with tba_client(sandbox_server, limit=3, pool=pool) as client:
            results[name] = _ids(full_scan(client, ALL_CUSTOMERS))

    threads = [threading.Thread(target=scan, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = admin(sandbox_server.base_url).get("/_sandbox/stats").json()
    assert stats["peak_concurrency"] <= 3
    assert stats["status_counts"].get("429", 0) == 0
    assert sorted(results["a"]) == sorted(results["b"]) == list(range(1, 9_001))


def test_a_scan_query_refuses_to_run_incrementally_without_a_modified_column(sandbox_server) -> None:
    with tba_client(sandbox_server) as client, pytest.raises(ValueError):
        list(
            incremental_scan(
                client, ScanQuery(select="id", from_="customer", key="id"), "2026-01-01 00:00:00"
            )
        )
