"""The read-only commands' fast path (`store.reads`): the bare driver returns what SQLAlchemy's models do.

The queries are written once, so what can differ between the driver and SQLAlchemy is how values come
back (SQLite's text timestamps and JSON, psycopg2's naive datetimes). Each test reads the same store both
ways, after a real sync over HTTP with drift, and compares with the ORM rows as the reference.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from resolve_sync.store import run_history
from resolve_sync.store.connection_records import list_connections, pick_connection
from resolve_sync.store.database import StoreNotMigrated, create_store_engine
from resolve_sync.store.models import InvoiceDrift, MerchantConnection, ResolveInvoice, SyncRun
from resolve_sync.store.reads import DriverReads, EngineReads, open_reads
from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import connect, invoice_record, orm_rows, sync


def _url(store) -> str:
    return store.url.render_as_string(hide_password=False)


def _financed_invoice_changed_in_netsuite(store, sandbox_server) -> None:
    with store.begin() as db:
        db.execute(update(ResolveInvoice).where(ResolveInvoice.netsuite_id == "100").values(advanced=True))
    changed = {**invoice_record(100, 10, "2026-02-01", total=1800), "lastmodifieddate": "2026-11-25T00:00:00"}
    admin(sandbox_server.base_url).post("/_sandbox/records/invoices", json={"records": [changed]})


def test_driver_reads_return_what_the_models_hold(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    _financed_invoice_changed_in_netsuite(store, sandbox_server)
    sync(store, sandbox_server, connection)

    fast = open_reads(_url(store))
    assert isinstance(fast, DriverReads), "a migrated store is read over the bare driver"
    slow = EngineReads(store)

    runs = orm_rows(store, select(SyncRun).order_by(SyncRun.id.desc()))
    for reads in (fast, slow):
        summaries = run_history.last_runs(reads, connection.id, limit=5)
        assert [(s.id, s.status, s.as_of, s.started_at, s.finished_at, s.counts) for s in summaries] == [
            (r.id, r.status, r.as_of, r.started_at, r.finished_at, r.counts) for r in runs
        ]
        assert all(s.started_at.tzinfo is dt.UTC for s in summaries)
        assert run_history.last_success(reads, [connection.id]) == {connection.id: runs[0].finished_at}
        assert run_history.get_run(reads, runs[-1].id) == summaries[-1]

        drift = run_history.drift_entries(reads, "acme")
        stored = orm_rows(store, select(InvoiceDrift))
        assert [(d.netsuite_id, d.number, d.changes, d.detected_at) for d in drift] == [
            (s.netsuite_id, "INV100", s.changes, s.detected_at) for s in stored
        ]
        assert drift[0].changes["amount_due"] == {"synced": "1500", "netsuite": "1800"}
        assert run_history.open_drift_count(reads, "acme") == 1

        totals = run_history.outcome_totals(reads, [r.id for r in runs])
        frozen = run_history.record_outcomes(reads, [runs[0].id], outcomes=["frozen"])
        assert sum(totals.values()) > 0 and [f.netsuite_id for f in frozen] == ["100"]

        (row,) = orm_rows(store, select(MerchantConnection))
        (read,) = list_connections(reads)
        assert (
            read.id,
            read.partition_key,
            read.subsidiary_id,
            read.enabled,
            read.bookkeeping_account_ids,
        ) == (
            row.id,
            row.partition_key,
            row.subsidiary_id,
            row.enabled,
            row.bookkeeping_account_ids,
        )
        assert read == pick_connection(reads, "acme", 2)
    fast.close()


def test_a_new_local_store_is_created_by_the_full_path() -> None:
    reads = open_reads()  # the default local store does not exist yet: created and migrated on first use
    assert isinstance(reads, EngineReads) and list_connections(reads) == []
    assert isinstance(open_reads(), DriverReads), "once migrated, the fast path takes over"


def test_a_configured_store_behind_the_code_is_refused_with_the_fix(tmp_path, monkeypatch) -> None:
    path = tmp_path / "configured.db"
    sqlite3.connect(path).execute(
        "CREATE TABLE alembic_version (version_num VARCHAR(32))"
    ).connection.commit()
    monkeypatch.setenv("RESOLVE_SYNC_DATABASE_URL", f"sqlite:///{path}")
    with pytest.raises(StoreNotMigrated, match="resolve-sync db upgrade"):
        open_reads()


def test_status_connections_and_drift_never_import_sqlalchemy(tmp_path) -> None:
    """What makes them answer in a blink (the time itself is `make bench`'s figure, not a test's)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url)
    from resolve_sync.store import migrations

    migrations.upgrade(engine)
    engine.dispose()
    probe = (
        "import json, sys\n"
        "sys.argv = ['resolve-sync', *json.loads(sys.argv[1])]\n"
        "from resolve_sync.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print(json.dumps([code, 'sqlalchemy' in sys.modules]), file=sys.stderr)\n"
    )
    env = {**os.environ, "RESOLVE_SYNC_DATABASE_URL": url}
    for args, code in (
        (["status"], 0),
        (["status", "--outcomes", "--outcome", "all"], 0),
        (["connections", "list"], 0),
        (["drift", "list", "acme"], 2),  # no such merchant: said, not shown as "no drift"
        (["db", "current"], 0),
    ):
        done = subprocess.run(
            [sys.executable, "-c", probe, json.dumps(args)], capture_output=True, text=True, env=env
        )
        assert json.loads(done.stderr.strip().splitlines()[-1]) == [code, False], (args, done.stderr)
