"""One process running a whole sync reads the invoices while it reads, checks and writes the customers
(`steps.stage_and_write`). Whichever side fails, the run fails with that side's own error, the other side
stops, and the next run ends where a clean run would (R15); what both sides accumulate on the run (counts,
pending cursors) survives their writing at the same moment."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from resolve_sync.kinds import RunMode, RunStatus
from resolve_sync.netsuite.errors import NetSuiteUnavailable
from resolve_sync.store.models import SyncCursor, SyncRun
from resolve_sync.store.run_history import last_runs
from resolve_sync.sync import ledger, steps
from resolve_sync_tests.sync_helpers import (
    AS_OF,
    connect,
    customers,
    invoices,
    medium_account,
    sync,
    sync_fixture,
)

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())

DOWN = "NetSuite account 1234567 failed on its side (503); retrying later usually works."


def _same_records(store, merchant: str, clean: str) -> None:
    assert set(customers(store, merchant)) == set(customers(store, clean)) != set()
    assert set(invoices(store, merchant)) == set(invoices(store, clean)) != set()


def test_r15_netsuite_failing_on_the_invoices_after_the_customers_were_written(
    store, sandbox_server, monkeypatch
) -> None:
    """The invoices' read fails once the customers are written: the run fails with NetSuite's error (not
    with the lease the failure took from the customers' side), no invoice is written, and the next run
    writes what a clean run writes."""
    connection = connect(store, sandbox_server)
    written = threading.Event()
    write_customers, extract_invoices = steps.write_customers, steps.extract_invoices

    def customers_then_signal(*args, **kwargs):
        try:
            return write_customers(*args, **kwargs)
        finally:
            written.set()

    def netsuite_down_after_the_customers(*_args, **_kwargs):  # the fault
        assert written.wait(timeout=60)
        raise NetSuiteUnavailable(DOWN)

    monkeypatch.setattr(steps, "write_customers", customers_then_signal)
    monkeypatch.setattr(steps, "extract_invoices", netsuite_down_after_the_customers)
    with pytest.raises(NetSuiteUnavailable, match="failed on its side"):
        sync(store, sandbox_server, connection)
    (failed,) = last_runs(store, connection.id)
    assert failed.status == RunStatus.FAILED and "failed on its side" in (failed.error or "")
    assert customers(store) and invoices(store) == {}

    monkeypatch.setattr(steps, "write_customers", write_customers)
    monkeypatch.setattr(steps, "extract_invoices", extract_invoices)
    again = sync(store, sandbox_server, connection)
    assert again.mode == RunMode.FULL  # the failed run moved no cursor
    sync(store, sandbox_server, connect(store, sandbox_server, merchant="globex"))
    _same_records(store, "acme", "globex")


def test_r15_netsuite_failing_on_the_customers_stops_the_invoices_read(
    store, sandbox_server, monkeypatch
) -> None:
    """The customers' read fails while the invoices are read: the run fails with that error, nothing is
    written, and the invoices' thread has ended by the time the sync returns."""
    connection = connect(store, sandbox_server)

    def netsuite_down(*_args, **_kwargs):  # the fault
        raise NetSuiteUnavailable(DOWN)

    monkeypatch.setattr(steps, "extract_customers", netsuite_down)
    with pytest.raises(NetSuiteUnavailable, match="failed on its side"):
        sync(store, sandbox_server, connection)
    assert not [t for t in threading.enumerate() if t.name.startswith("invoices-of-run-")]
    (failed,) = last_runs(store, connection.id)
    assert failed.status == RunStatus.FAILED and "failed on its side" in (failed.error or "")
    assert customers(store) == {} and invoices(store) == {}
    monkeypatch.undo()
    sync(store, sandbox_server, connection)
    sync(store, sandbox_server, connect(store, sandbox_server, merchant="globex"))
    _same_records(store, "acme", "globex")


def test_r17_both_streams_cursors_are_kept_and_the_next_run_is_incremental(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    with store.connect() as db:
        streams = set(db.scalars(select(SyncCursor.stream).where(SyncCursor.connection_id == connection.id)))
    assert streams == {"customers", "invoices"}
    assert sync(store, sandbox_server, connection).mode == RunMode.INCREMENTAL


def test_counts_and_pending_cursors_written_at_once_are_all_kept(store, sandbox_server) -> None:
    """Two threads add to one run's counts and pending cursors at the same time, as the two reads do."""
    connection = connect(store, sandbox_server)
    run = ledger.start_run(
        store, connection, as_of=AS_OF, full_refresh=False, subsidiary_id=2, dagster_run_id=None
    )
    rounds = 25
    start = threading.Barrier(2)

    def stream(name: str) -> None:
        start.wait()
        for _ in range(rounds):
            ledger.add_counts(store, run.run_id, {f"{name}_read": 1, "netsuite_requests": 1})
            ledger.remember_cursor(store, run, name, None)

    threads = [threading.Thread(target=stream, args=(name,)) for name in ("customers", "invoices")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.connect() as db:
        counts, pending = db.execute(
            select(SyncRun.counts, SyncRun.pending_cursors).where(SyncRun.id == run.run_id)
        ).one()
    assert counts == {"customers_read": rounds, "invoices_read": rounds, "netsuite_requests": 2 * rounds}
    assert set(pending) == {"customers", "invoices"}


@pytest.mark.sandbox_fixture(medium_account(300, 6_000))
def test_r15_a_first_sync_failing_halfway_through_its_invoices_then_run_again_equals_a_clean_run(
    store, sandbox_server, monkeypatch
) -> None:
    """A first sync writes its invoices while it reads them; NetSuite failing on the fourth batch of six
    leaves what was written (never a duplicate), and the next run ends as a clean sync does."""
    from resolve_sync.store.models import StagedInvoice
    from resolve_sync.sync import extract

    connection = connect(store, sandbox_server)
    upsert, invoice_batches = extract._upsert, []

    def netsuite_down_on_the_fourth_invoice_batch(engine, table, *args, **kwargs):  # the fault
        if table is StagedInvoice:
            invoice_batches.append(1)
            if len(invoice_batches) == 4:
                raise NetSuiteUnavailable(DOWN)
        return upsert(engine, table, *args, **kwargs)

    monkeypatch.setattr(extract, "_upsert", netsuite_down_on_the_fourth_invoice_batch)
    with pytest.raises(NetSuiteUnavailable, match="failed on its side"):
        sync(store, sandbox_server, connection)
    assert len(invoices(store)) <= 3_000  # at most the three batches staged before the failure
    monkeypatch.undo()
    again = sync(store, sandbox_server, connection)
    assert again.mode == RunMode.FULL and again["invoices_read"] == 6_000
    sync(store, sandbox_server, connect(store, sandbox_server, merchant="globex"))
    _same_records(store, "acme", "globex")
    assert len(invoices(store)) == 6_000


def test_r12_a_blocked_run_whose_invoices_read_failed_says_what_its_history_says(
    store, sandbox_server, monkeypatch
) -> None:
    """Duplicates block the run (R12) while NetSuite fails on the invoices: whichever the run recorded first
    is the error the sync raises, so the CLI and `resolve-sync status` tell the same story."""
    from resolve_sync.sync.errors import DuplicatesFound
    from resolve_sync_tests.sandbox_helpers import admin

    with admin(sandbox_server.base_url) as control:
        twin = {
            "id": 61,
            "entityid": "C61",
            "companyname": "Initech",
            "email": "x@initech.test",
            "subsidiary": 2,
        }
        control.post("/_sandbox/records/customers", json={"records": [twin]}).raise_for_status()
    connection = connect(store, sandbox_server)

    def netsuite_down(*_args, **_kwargs):  # the fault
        raise NetSuiteUnavailable(DOWN)

    monkeypatch.setattr(steps, "extract_invoices", netsuite_down)
    with pytest.raises((DuplicatesFound, NetSuiteUnavailable)) as raised:
        sync(store, sandbox_server, connection)
    (failed,) = last_runs(store, connection.id)
    assert failed.status == RunStatus.FAILED
    assert str(raised.value).splitlines()[0] in (failed.error or "")
    assert customers(store) == {} and invoices(store) == {}


def test_each_read_reports_its_own_requests_and_together_the_runs(store, sandbox_server) -> None:
    """The customers' and invoices' step results (the fleet job's materialisation metadata) each carry the
    NetSuite requests made for them; with the run's opening round trip they add up to the run's count."""
    from resolve_sync_tests.sandbox_helpers import tba_client

    connection = connect(store, sandbox_server)
    with tba_client(sandbox_server) as client:
        run = steps.begin(client, store, connection, as_of=AS_OF, read_ahead=steps.STREAMS)
        opening = client.stats.as_dict()["requests"]
        done = steps.stage_and_write(client, store, run)
    assert done.customers is not None and done.invoices is not None and done.written is not None
    customers_asked = done.customers.counts["netsuite_requests"]
    invoices_asked = done.invoices.counts["netsuite_requests"]
    assert customers_asked > 0 and invoices_asked > 0
    assert opening + customers_asked + invoices_asked == done.written.counts["netsuite_requests"]
