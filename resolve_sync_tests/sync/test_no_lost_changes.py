"""Regression tests for data-loss defects found from the outside: a change read by a run that did not
finish, an owner change above a customer in an incremental run, and poison values from NetSuite.

Each drives the sandbox over HTTP and the store on SQLite and PostgreSQL, as users do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from resolve_sync.netsuite.errors import NetSuiteRateLimited, NetSuiteUnavailable
from resolve_sync.store import run_history
from resolve_sync.store.duplicate_resolutions import record_resolution
from resolve_sync.store.models import SyncRecordOutcome
from resolve_sync.sync import steps
from resolve_sync.sync.errors import DuplicatesFound
from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import (
    FILTER,
    connect,
    customers,
    invoice_record,
    invoices,
    orm_rows,
    set_filter,
    sync,
    sync_fixture,
)

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def _edit(server, kind: str, *records: dict, at: str = "2026-11-26T09:00:00") -> None:
    control = admin(server.base_url)
    control.post("/_sandbox/clock", json={"now": at})
    answer = control.post(f"/_sandbox/records/{kind}", json={"records": list(records)})
    assert answer.status_code == 200, answer.text


ACME = {
    "id": 10,
    "entityid": "C10",
    "companyname": "Acme Inc",
    "email": "ap@acme.test",
    "subsidiary": 2,
    "custom": {FILTER: True, "custentity_vip": True},
}


def test_r15_a_change_staged_by_a_run_blocked_on_duplicates_is_written_by_the_next_incremental_run(
    store, sandbox_server
) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    _edit(
        sandbox_server,
        "customers",
        {**ACME, "email": "billing@acme.test"},
        {"id": 61, "entityid": "C61", "companyname": "Initech", "email": "x@initech.test", "subsidiary": 2},
    )
    with pytest.raises(DuplicatesFound):
        sync(store, sandbox_server, connection)  # stages the new email, then blocks before writing
    assert customers(store)["10"].email == "ap@acme.test"
    record_resolution(store, "acme", "netsuite:30", "netsuite:61", "distinct")
    report = sync(store, sandbox_server, connection)
    assert report.mode == "incremental"
    assert customers(store)["10"].email == "billing@acme.test"


def test_r15_a_change_staged_by_a_run_that_failed_before_writing_is_written_next_time(
    store, sandbox_server, monkeypatch
) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    _edit(sandbox_server, "customers", {**ACME, "email": "billing@acme.test"})

    def netsuite_down(*_args, **_kwargs):  # the fault: NetSuite fails while invoices are read
        raise NetSuiteUnavailable(
            "NetSuite account 1234567 failed on its side (503); retrying later usually works."
        )

    monkeypatch.setattr(steps, "extract_invoices", netsuite_down)
    with pytest.raises(NetSuiteUnavailable):
        sync(store, sandbox_server, connection)
    monkeypatch.undo()
    sync(store, sandbox_server, connection)
    assert customers(store)["10"].email == "billing@acme.test"


def test_r5_a_re_parenting_two_levels_up_moves_the_invoices_in_an_incremental_run(
    store, sandbox_server
) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    resolve_acme = customers(store)["10"].id
    assert invoices(store)["101"].customer_id == resolve_acme  # 13 → 12 → 11 → 10
    # 11 (two levels above 13) becomes a top-level customer: 13's invoices now belong to 11.
    _edit(
        sandbox_server,
        "customers",
        {
            "id": 11,
            "entityid": "C11",
            "companyname": "Acme West",
            "email": "west@acme.test",
            "subsidiary": 2,
            "custom": {FILTER: True},
        },
    )
    report = sync(store, sandbox_server, connection)
    assert report.mode == "incremental"
    assert invoices(store)["101"].customer_id == customers(store)["11"].id


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"foreigntotal": 1e15, "foreignamountunpaid": 1e15}, "too large"),
        ({"tranid": "N" * 10_000}, "10000 characters long"),
        ({"currency": "ZZZ"}, "not an ISO 4217 code"),
        ({"foreigntotal": 100.12345, "foreignamountunpaid": 0}, "more than 4 decimal places"),
    ],
)
def test_a_poison_invoice_is_invalid_with_its_reason_and_the_rest_syncs(
    store, sandbox_server, change, reason
) -> None:
    _edit(
        sandbox_server,
        "invoices",
        {**invoice_record(100, 10, "2026-02-01", total=1500), **change},
    )
    report = sync(store, sandbox_server, connect(store, sandbox_server))
    assert "100" not in invoices(store)
    assert set(invoices(store)) == {"101", "102", "103", "104", "106"}
    assert report["invalid"] == 1
    outcome = orm_rows(store, select(SyncRecordOutcome).where(SyncRecordOutcome.netsuite_id == "100"))[0]
    assert outcome.outcome == "invalid" and reason in outcome.reason


def test_direction_overrides_make_a_name_invalid_and_nothing_is_truncated(store, sandbox_server) -> None:
    _edit(sandbox_server, "customers", {**ACME, "companyname": "Acme\u202e cnI"})
    _edit(
        sandbox_server,
        "customers",
        {
            "id": 20,
            "entityid": "C20",
            "companyname": "Globex LLC",
            "email": "ap@globex.test",
            "subsidiary": 2,
            "isinactive": True,
            "phone": "5" * 100,
        },
    )
    sync(store, sandbox_server, connect(store, sandbox_server))
    assert "10" not in customers(store)  # it would display as "Acme Inc"
    reasons = {r.netsuite_id: r.reason for r in orm_rows(store, select(SyncRecordOutcome))}
    assert "U+202E" in reasons["10"] and "64" in reasons["20"]
    assert "20" not in customers(store)  # a 100-digit phone is invalid, not cut to 64


def test_r10_a_blocked_run_under_another_filter_does_not_leave_stale_boxes_behind(
    store, sandbox_server
) -> None:
    """Found by the state machine: a run with the filter cleared staged every customer without its box
    value, then was blocked; with the filter set back, an incremental run trusted those stale boxes and
    skipped a new invoice of a checked customer."""
    connection = connect(store, sandbox_server, filter_field=FILTER)
    sync(store, sandbox_server, connection)
    globex = {
        "id": 20,
        "entityid": "C20",
        "companyname": "Globex LLC",
        "email": "ap@globex.test",
        "subsidiary": 2,
        "isinactive": True,
        "custom": {FILTER: True},
    }
    _edit(sandbox_server, "customers", {**globex, "phone": "+1 555 0199"}, at="2026-11-20T09:00:00")
    sync(store, sandbox_server, connection)  # the cursor moves past every customer's last change
    set_filter(store, connection, None)
    _edit(
        sandbox_server,
        "customers",
        {"id": 61, "entityid": "C61", "companyname": "Initech", "email": "x@initech.test", "subsidiary": 2},
        at="2026-11-25T09:00:00",
    )
    with pytest.raises(DuplicatesFound):  # a full re-evaluation without the filter, blocked before writing
        sync(store, sandbox_server, connection)
    set_filter(store, connection, FILTER)
    record_resolution(store, "acme", "netsuite:30", "netsuite:61", "distinct")
    _edit(
        sandbox_server,
        "invoices",
        invoice_record(108, 10, "2026-10-01", total=10),
    )
    sync(store, sandbox_server, connection)
    assert "108" in invoices(store)


def test_a_429_storm_that_outlasts_the_retries_is_in_the_run_history_with_its_reason(
    store, sandbox_server
) -> None:
    """R16 + issue 13: every request answered 429 until the retries give up. The attempt is refused before
    anything is read, recorded with the reason, and nothing synced before is touched."""
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    before = {k: (c.email, c.version) for k, c in customers(store).items()}
    control = admin(sandbox_server.base_url)
    assert control.put("/_sandbox/faults", json={"rate_429": 1.0}).status_code == 200
    try:
        with pytest.raises(NetSuiteRateLimited):
            sync(store, sandbox_server, connection)
    finally:
        control.put("/_sandbox/faults", json={})
    last = run_history.last_runs(store, connection.id, 1)[0]
    assert (last.status, last.mode) == ("failed", "rejected")
    assert "concurrency limit" in (last.error or "")
    assert {k: (c.email, c.version) for k, c in customers(store).items()} == before
