"""Edits during a run, bad NetSuite data, and two subsidiaries of one merchant."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync.store.models import ResolveCustomer, SyncRecordOutcome
from resolve_sync.sync import writer as writer_module
from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import (
    AS_OF,
    FILTER,
    connect,
    customers,
    invoice_record,
    invoices,
    orm_rows,
    sync,
    sync_fixture,
)

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def test_r7_an_edit_made_in_resolve_during_the_run_is_not_clobbered(
    store, sandbox_server, monkeypatch
) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    admin(sandbox_server.base_url).post(
        "/_sandbox/records/customers",
        json={
            "records": [
                {
                    "id": 10,
                    "entityid": "C10",
                    "companyname": "Acme Renamed",
                    "email": "ap@acme.test",
                    "subsidiary": 2,
                    "custom": {FILTER: True},
                }
            ]
        },
    )
    original = writer_module.compare_and_set
    edited = []

    def user_edits_between_plan_and_write(db, model, updates, now):  # the fault: a concurrent writer
        if model is ResolveCustomer and not edited:
            db.execute(
                update(ResolveCustomer)
                .where(ResolveCustomer.netsuite_id == "10")
                .values(business_phone="+1 555 0100", version=ResolveCustomer.version + 1)
            )
            edited.append(True)
        return original(db, model, updates, now)

    monkeypatch.setattr(writer_module, "compare_and_set", user_edits_between_plan_and_write)
    sync(store, sandbox_server, connection)
    acme = customers(store)["10"]
    assert (acme.business_name, acme.business_phone) == ("Acme Renamed", "+1 555 0100")
    assert acme.version == 3  # created 1, user edit 2, sync 3


BAD = {
    "blank name": (
        {"id": 70, "entityid": "C70", "companyname": "  ", "email": "a@b.test"},
        "company name is blank",
    ),
    "long name": (
        {"id": 71, "entityid": "C71", "companyname": "x" * 10_000, "email": "a@c.test"},
        "characters long",
    ),
    "bad email": (
        {"id": 72, "entityid": "C72", "companyname": "Bad Email Co", "email": "not-an-email"},
        "not a valid address",
    ),
    "no email": ({"id": 73, "entityid": "C73", "companyname": "No Email Co"}, "email is missing"),
    "control chars": (
        {"id": 74, "entityid": "C74", "companyname": "Ctrl\x07 Co\x00", "email": "ctrl@x.test"},
        None,
    ),
}
BAD_INVOICES = {
    "zero total": ({"foreigntotal": 0, "foreignamountunpaid": 0}, "not positive"),
    "negative total": ({"foreigntotal": -5, "foreignamountunpaid": -5}, "not positive"),
    "unpaid above total": ({"foreigntotal": 10, "foreignamountunpaid": 20}, "outside 0..10"),
    "due before invoice": ({"duedate": "2026-01-01"}, "before the invoice date"),
    "unknown currency": ({"currency": "ZZ"}, "not an ISO 4217 code"),
    "missing customer": ({"entity": 999}, "not among the subsidiary's customers"),
}


def test_bad_netsuite_data_gets_a_reason_per_record_and_the_rest_syncs(store) -> None:
    raw = sync_fixture()
    raw["customers"] += [{**c, "subsidiary": 2, "custom": {FILTER: True}} for c, _ in BAD.values()]
    for number, (patch, _) in enumerate(BAD_INVOICES.values()):
        raw["invoices"].append({**invoice_record(900 + number, 10, "2026-07-01"), **patch})
    with SandboxServer(parse_fixture(raw)) as server:
        report = sync(store, server, connect(store, server))
    outcomes = {(r.record_kind, r.netsuite_id): r for r in orm_rows(store, select(SyncRecordOutcome))}
    for customer, expected in BAD.values():
        if expected is None:
            continue
        outcome = outcomes[("customer", str(customer["id"]))]
        assert outcome.outcome == "invalid" and expected in outcome.reason
    assert customers(store)["74"].business_name == "Ctrl Co"  # control characters are dropped, not fatal
    for number, (_, expected) in enumerate(BAD_INVOICES.values()):
        outcome = outcomes[("invoice", str(900 + number))]
        assert outcome.outcome in ("invalid", "held_back") and expected in outcome.reason, outcome.reason
    assert {"100", "101", "106"} <= set(invoices(store))  # the good records synced
    assert report["invalid"] == 9 and report["held_back"] == 1


def test_one_customer_in_two_connected_subsidiaries_is_one_resolve_customer(store, sandbox_server) -> None:
    us, canada = connect(store, sandbox_server, subsidiary=2), connect(store, sandbox_server, subsidiary=3)
    sync(store, sandbox_server, us)
    sync(store, sandbox_server, canada)
    with store.connect() as db:
        maple = db.scalars(select(ResolveCustomer.id).where(ResolveCustomer.netsuite_id == "40")).all()
    assert len(maple) == 1
    assert invoices(store)["107"].customer_id == customers(store)["50"].id


def test_duplicate_netsuite_ids_in_one_page_stage_once(store, sandbox_server) -> None:
    """PostgreSQL refuses an upsert that touches a row twice; a page repeating an id must not break the run."""
    from resolve_sync.store.models import StagedCustomer
    from resolve_sync.sync.extract import CUSTOMER_COLUMNS, _stage
    from resolve_sync.sync.ledger import start_run

    connection = connect(store, sandbox_server)
    ctx = start_run(store, connection, as_of=AS_OF, full_refresh=True, subsidiary_id=2)
    page = [
        {"id": "10", "entityid": "C10", "companyname": "Acme Inc", "lastmodified": "2026-06-01 10:00:00"},
        {
            "id": "10",
            "entityid": "C10",
            "companyname": "Acme Inc (later)",
            "lastmodified": "2026-06-01 10:00:05",
        },
    ]
    read, latest = _stage(store, ctx, StagedCustomer, CUSTOMER_COLUMNS, [page], in_scope=True)
    assert read == 2 and latest is not None
    (row,) = orm_rows(store, select(StagedCustomer))
    assert row.companyname == "Acme Inc (later)"


def test_a_parent_cycle_holds_the_invoices_back_instead_of_guessing(store) -> None:
    raw = sync_fixture()
    raw["customers"] += [
        {
            "id": 80,
            "entityid": "C80",
            "companyname": "Loop A",
            "email": "a@loop.test",
            "parent": 81,
            "subsidiary": 2,
            "custom": {FILTER: True},
        },
        {
            "id": 81,
            "entityid": "C81",
            "companyname": "Loop B",
            "email": "b@loop.test",
            "parent": 80,
            "subsidiary": 2,
            "custom": {FILTER: True},
        },
    ]
    raw["invoices"].append(invoice_record(800, 80, "2026-07-01"))
    with SandboxServer(parse_fixture(raw)) as server:
        report = sync(store, server, connect(store, server))
    assert "800" not in invoices(store) and report["held_back"] == 1
    (outcome,) = [r for r in orm_rows(store, select(SyncRecordOutcome)) if r.netsuite_id == "800"]
    assert "cycle" in outcome.reason
    assert customers(store)["80"].archived and customers(store)["81"].archived  # both are sub-customers


@pytest.mark.parametrize("value", ["31/02/2026", "2026-13-01", "yesterday"])
def test_unparseable_dates_make_the_invoice_invalid(value: str) -> None:
    from resolve_sync.sync.transform import InvalidRecord, resolve_invoice_fields

    row = {
        "tranid": "INV1",
        "foreigntotal": "10",
        "foreignamountunpaid": "10",
        "trandate": value,
        "currency": "USD",
    }
    with pytest.raises(InvalidRecord, match="is not a date"):
        resolve_invoice_fields(row, "cus_1")
