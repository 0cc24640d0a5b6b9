"""R5: a run re-plans the invoices below a customer only when what decides their owner changed (its parent,
scope or filter box), so renaming half the customers touches no invoice, while a re-parenting still moves
the invoices below it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import connect, customer_record, invoices, sync, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())

LATER = "2026-11-20T10:00:00"


def _change(server, records: list[dict]) -> None:
    with admin(server.base_url) as control:
        control.post("/_sandbox/records/customers", json=records).raise_for_status()


def test_r5_renamed_customers_leave_their_invoices_unplanned(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    _change(
        sandbox_server,
        [
            {**customer_record(10, "Acme Incorporated", "ap@acme.test", vip=True), "lastmodifieddate": LATER},
            {**customer_record(13, "Acme Retail", "retail@acme.test", parent=12), "lastmodifieddate": LATER},
        ],
    )
    report = sync(store, sandbox_server, connection)
    assert report["customers_updated"] == 2
    assert report["invoices_unchanged"] == 0 and report["invoices_updated"] == 0


def test_r5_a_re_parented_customer_s_invoices_move_to_the_new_top_level_customer(
    store, sandbox_server
) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    owner = {i.netsuite_id: i.customer_id for i in invoices(store).values()}
    _change(
        sandbox_server,
        [{**customer_record(13, "Acme West Coast Retail", "retail@acme.test"), "lastmodifieddate": LATER}],
    )
    report = sync(store, sandbox_server, connection)
    assert report["invoices_updated"] == 1  # 101, of customer 13, which is now top-level itself
    moved = invoices(store)["101"]
    with store.connect() as db:
        top = db.execute(
            text("SELECT netsuite_id FROM resolve_customers WHERE id = :id"), {"id": moved.customer_id}
        ).scalar_one()
    assert top == "13" and moved.customer_id != owner["101"]


def test_a_store_staged_before_the_marker_re_plans_as_before(store, sandbox_server) -> None:
    """Rows staged before migration 0006 have no owner mark: a change to them re-plans their invoices once."""
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    with store.begin() as db:
        db.execute(text("UPDATE netsuite_staged_customers SET owner_changed_run_id = NULL"))
    _change(
        sandbox_server,
        [{**customer_record(10, "Acme Incorporated", "ap@acme.test", vip=True), "lastmodifieddate": LATER}],
    )
    report = sync(store, sandbox_server, connection)
    assert report["invoices_unchanged"] >= 1  # 10's invoices (and its sub-customers') planned again
    assert sync(store, sandbox_server, connection)["invoices_unchanged"] == 0


def test_r5_a_held_back_invoice_moves_once_its_new_top_level_customer_can_be_synced(
    store, sandbox_server
) -> None:
    """Found by review: 13 is re-parented under 60, which is invalid (no usable email), so 13's synced
    invoice 101 is held back where it is. Fixing 60's email changes nothing about 101 or the owner facts
    above it, yet 101 must now move to 60."""
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    _change(sandbox_server, [{**customer_record(60, "Zeta Corp", "not-an-email"), "lastmodifieddate": LATER}])
    assert sync(store, sandbox_server, connection)["invalid"] >= 1
    _change(
        sandbox_server,
        [
            {
                **customer_record(13, "Acme West Coast Retail", "retail@acme.test", parent=60),
                "lastmodifieddate": LATER,
            }
        ],
    )
    assert sync(store, sandbox_server, connection)["held_back"] >= 1
    assert _owner_of(store, "101") == "10"  # held back: Resolve keeps it as last synced
    _change(sandbox_server, [{**customer_record(60, "Zeta Corp", "ap@zeta.test"), "lastmodifieddate": LATER}])
    report = sync(store, sandbox_server, connection)
    assert report["customers_created"] == 1 and report["invoices_updated"] == 1
    assert _owner_of(store, "101") == "60"
    assert sync(store, sandbox_server, connection)["invoices_unchanged"] == 0  # written: no longer re-planned


def _owner_of(store, invoice_id: str) -> str:
    with store.connect() as db:
        return db.execute(
            text(
                "SELECT c.netsuite_id FROM resolve_invoices i JOIN resolve_customers c ON c.id = i.customer_id "
                "WHERE i.netsuite_id = :id"
            ),
            {"id": invoice_id},
        ).scalar_one()
