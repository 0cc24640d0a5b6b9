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
import types

import pytest
from sqlalchemy import select, update

from resolve_sync.kinds import RecordKind, Resolution
from resolve_sync.store import run_history
from resolve_sync.store.connection_records import list_connections, pick_connection
from resolve_sync.store.database import StoreNotMigrated, create_store_engine
from resolve_sync.store.duplicate_resolutions import record_resolution
from resolve_sync.store.models import (
    DuplicateResolution,
    InvoiceDrift,
    MerchantConnection,
    NetSuiteInvoiceLink,
    ResolveCustomer,
    ResolveInvoice,
    StagedCustomer,
    StagedInvoice,
    SyncRun,
    utcnow,
)
from resolve_sync.store.reads import DriverReads, EngineReads, open_reads
from resolve_sync.store.resolution_records import list_resolutions
from resolve_sync.sync import explain, lookups
from resolve_sync.sync.duplicates import duplicate_pairs, resolutions
from resolve_sync.sync.errors import DuplicatesFound
from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import (
    connect,
    customer_record,
    invoice_record,
    orm_rows,
    sync,
    sync_fixture,
)


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


PROBE = (
    "import json, sys\n"
    "sys.argv = ['resolve-sync', *json.loads(sys.argv[1])]\n"
    "from resolve_sync.cli import main\n"
    "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
    "print(json.dumps([code, 'sqlalchemy' in sys.modules]), file=sys.stderr)\n"
)


def _probe(url: str, args: list[str]) -> tuple[int, bool, str]:
    """Run the command in a child process: its exit code, whether it imported SQLAlchemy, and its stdout."""
    env = {**os.environ, "RESOLVE_SYNC_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, env=env
    )
    code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    return code, loaded, done.stdout


def test_status_connections_and_drift_never_import_sqlalchemy(tmp_path) -> None:
    """What makes them answer in a blink (the time itself is `make bench`'s figure, not a test's)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url)
    from resolve_sync.store import migrations

    migrations.upgrade(engine)
    engine.dispose()
    for args, code in (
        (["status"], 0),
        (["status", "--outcomes", "--outcome", "all"], 0),
        (["connections", "list"], 0),
        (["drift", "list", "acme"], 2),  # no such merchant: said, not shown as "no drift"
        (["db", "current"], 0),
        (["duplicates", "list", "acme"], 2),  # no such merchant
        (["explain", "acme", "netsuite:1"], 2),
        (["connections", "enable", "acme"], 2),  # the small changes too
        (["duplicates", "distinct", "acme", "netsuite:1", "netsuite:2"], 2),
    ):
        assert _probe(url, args)[:2] == (code, False), args


# -- what `explain` and `duplicates list` read ---------------------------------------------------------------


def _store_with_every_story(store, server):
    """Four runs: one blocked by a NetSuite customer matching a Resolve customer, which an operator links;
    one that adopts it; one that records drift on a financed invoice; one blocked by a new NetSuite customer
    with a name like another's (staged, never linked)."""
    with store.begin() as db:
        db.execute(
            ResolveCustomer.__table__.insert().values(
                id="cus_manual",
                merchant_id="acme",
                business_name="Maple Limited",
                email="ap@maple.test",
                archived=False,
                source="MERCHANT_USER",
                version=1,
                created_at=utcnow(),
                updated_at=utcnow(),
                updated_by="merchant",
            )
        )
    connection = connect(store, server)
    with pytest.raises(DuplicatesFound):
        sync(store, server, connection)
    record_resolution(store, "acme", "netsuite:40", "resolve:cus_manual", Resolution.LINKED)
    record_resolution(store, "acme", "netsuite:20", "netsuite:30", Resolution.DISTINCT)
    sync(store, server, connection)
    with store.begin() as db:
        db.execute(update(ResolveInvoice).where(ResolveInvoice.netsuite_id == "100").values(advanced=True))
    changed = {**invoice_record(100, 10, "2026-02-01", total=1800), "lastmodifieddate": "2026-11-25T00:00:00"}
    admin(server.base_url).post("/_sandbox/records/invoices", json={"records": [changed]})
    sync(store, server, connection)
    twin = {**customer_record(14, "ACME, Inc.", "ap2@acme.test"), "lastmodifieddate": "2026-11-25T00:00:00"}
    admin(server.base_url).post("/_sandbox/records/customers", json={"records": [twin]})
    with pytest.raises(DuplicatesFound):
        sync(store, server, connection)
    return connection


def _columns(model) -> set[str]:
    return {c.name for c in model.__table__.columns}


def _exactly(row) -> dict[str, str]:
    """Each value with its type: Decimal('1500.0000') is not Decimal('1500'), 1 is not True."""
    return {name: f"{type(value).__name__}:{value!r}" for name, value in dict(row).items()}


@pytest.mark.sandbox_fixture(sync_fixture())
def test_explain_and_duplicates_read_over_the_driver_what_the_engine_and_models_give(
    store, sandbox_server
) -> None:
    connection = _store_with_every_story(store, sandbox_server)
    fast = open_reads(_url(store))
    assert isinstance(fast, DriverReads)
    invoice_100 = orm_rows(
        store, select(NetSuiteInvoiceLink).where(NetSuiteInvoiceLink.netsuite_id == "100")
    )[0]
    keys = [
        "netsuite:10",  # a top-level customer with sub-customers, and the owner of invoice 100
        "netsuite:13",  # a sub-customer three levels down
        "netsuite:14",  # staged by the blocked run: a duplicate, not in Resolve
        "netsuite:20",  # inactive: archived, and marked distinct from 30
        "netsuite:40",  # linked by the operator to cus_manual
        "netsuite:100",  # financed, with drift
        "netsuite:101",  # an invoice of a sub-customer
        "resolve:cus_manual",
        f"resolve:{invoice_100.resolve_invoice_id}",
    ]

    def everything(source) -> dict[str, object]:
        ids = ["10", "13", "14", "40", "999"]
        return {
            "facts": lookups.customer_facts(source, connection),
            "owners": lookups.customer_owners(source, connection),
            "customer_links": lookups.links(source, connection, RecordKind.CUSTOMER, ids),
            "invoice_links": lookups.links(source, connection, RecordKind.INVOICE, ["100", "101", "999"]),
            "no_links": lookups.links(source, connection, RecordKind.CUSTOMER, []),
            "changed": sorted(
                lookups.owners_changed_since(
                    source, types.SimpleNamespace(connection=connection, since_run_id=0)
                )
            ),
            "customer_rows": lookups.resolve_rows(source, RecordKind.CUSTOMER, ["cus_manual", "nosuch"]),
            "invoice_rows": lookups.resolve_rows(
                source, RecordKind.INVOICE, [invoice_100.resolve_invoice_id]
            ),
            "pairs": duplicate_pairs(source, connection),
            "resolutions": resolutions(source, "acme"),
            "listed": list_resolutions(source, "acme"),
            "staged": [
                explain.staged_row(source, connection, kind, i)
                for kind in RecordKind
                for i in ("10", "14", "100", "101", "999")
            ],
            "resolve": [
                explain.resolve_row(source, kind, i)
                for kind in RecordKind
                for i in ("cus_manual", invoice_100.resolve_invoice_id, "nosuch")
            ],
            "linked": [
                explain.linked_netsuite_id(source, kind, "acme", i)
                for kind in RecordKind
                for i in ("cus_manual", invoice_100.resolve_invoice_id)
            ],
            "history": [explain.outcome_history(source, connection, kind, "100", 5) for kind in RecordKind],
            "as_of": explain.last_as_of(source, connection),
            "drift": explain.invoice_drift(source, invoice_100.resolve_invoice_id),
            "stories": [[s.as_dict() for s in explain.explain(source, [connection], key)] for key in keys],
        }

    with store.connect() as db:  # the sync's batches hand a connection inside their transaction
        by_connection = everything(db)
    by_engine, by_driver = everything(store), everything(fast)
    assert repr(by_driver) == repr(by_engine) == repr(by_connection)  # repr: types and Decimal places too
    assert [p.keys for p in by_driver["pairs"]] == [("netsuite:10", "netsuite:14")]
    assert by_driver["resolutions"] == {
        ("netsuite:40", "resolve:cus_manual"): "linked",
        ("netsuite:20", "netsuite:30"): "distinct",
    }
    assert [(r.left_key, r.created_at.tzinfo) for r in by_driver["listed"]] == [
        ("netsuite:40", dt.UTC),
        ("netsuite:20", dt.UTC),
    ]
    assert by_driver["drift"][0][0]["amount_due"] == {"synced": "1500", "netsuite": "1800"}

    # whole rows are what the models hold, column for column, value and type
    staged, resolve = by_driver["staged"], by_driver["resolve"]
    assert set(staged[0]) == _columns(StagedCustomer) and set(staged[7]) == _columns(StagedInvoice)
    assert set(resolve[0]) == _columns(ResolveCustomer) and set(resolve[4]) == _columns(ResolveInvoice)
    with store.connect() as db:
        for read, model, key in (
            (staged[0], StagedCustomer, "10"),
            (staged[1], StagedCustomer, "14"),
            (staged[7], StagedInvoice, "100"),
            (staged[8], StagedInvoice, "101"),
        ):
            orm = db.execute(
                select(model).where(model.connection_id == connection.id, model.netsuite_id == key)
            )
            assert _exactly(read) == _exactly(orm.mappings().one())
        for read, model, key in (
            (resolve[0], ResolveCustomer, "cus_manual"),
            (resolve[4], ResolveInvoice, invoice_100.resolve_invoice_id),
        ):
            assert _exactly(read) == _exactly(
                db.execute(select(model).where(model.id == key)).mappings().one()
            )
        stored = db.execute(select(DuplicateResolution).order_by(DuplicateResolution.id)).mappings().all()
        assert [_exactly(vars(r)) for r in by_driver["listed"]] == [_exactly(r) for r in stored]
    assert (
        staged[2] is None and staged[5] is None and resolve[2] is None
    )  # 999, an invoice id as a customer, …

    # the commands themselves, in a child process, over the driver: no SQLAlchemy, the same answers
    url = _url(store)
    for key in keys:
        code, loaded, out = _probe(url, ["explain", "acme", key, "--json"])
        assert (code, loaded) == (0, False), key
        assert json.loads(out) == json.loads(json.dumps(by_engine["stories"][keys.index(key)], default=str))
    code, loaded, out = _probe(url, ["duplicates", "list", "acme", "--json"])
    assert (code, loaded) == (0, False)
    listed = json.loads(out)
    assert [(p["left"], p["right"]) for p in listed["unresolved"]] == [("netsuite:10", "netsuite:14")]
    assert [r["resolution"] for r in listed["resolved"]] == ["linked", "distinct"]
    fast.close()


# -- the small changes over the driver ----------------------------------------------------------------------


def test_small_changes_over_the_driver_write_what_the_models_then_read(store, sandbox_server) -> None:
    """`connections enable|set-filter|remove` and `duplicates distinct|forget` as the CLI runs them (the
    bare driver, in one transaction each): the ORM reads back exactly what was meant, a refused change
    leaves nothing behind, and removing a connection takes its runs with it (the schema's cascades, which
    SQLite applies only with foreign keys on)."""
    from resolve_sync.store.connection_changes import remove_connection, update_connection
    from resolve_sync.store.duplicate_resolutions import InvalidResolution, forget_resolution
    from resolve_sync.store.models import DuplicateResolution, SyncRun
    from resolve_sync.store.reads import open_writes

    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    writes = open_writes(_url(store))
    assert isinstance(writes, DriverReads)

    changed = update_connection(
        writes,
        "acme|2",
        enabled=False,
        filter_field_id="custentity_vip",
        bookkeeping_account_ids={"ar": "120"},
    )
    (row,) = orm_rows(store, select(MerchantConnection))
    assert (row.enabled, row.filter_field_id, row.bookkeeping_account_ids) == (
        False,
        "custentity_vip",
        {"ar": "120"},
    )
    assert changed == pick_connection(EngineReads(store), "acme", 2)
    moved = update_connection(writes, "acme|2", subsidiary_id=3)
    assert (
        moved.partition_key == "acme|3" and orm_rows(store, select(MerchantConnection))[0].subsidiary_id == 3
    )

    record_resolution(writes, "acme", "netsuite:30", "netsuite:20", Resolution.DISTINCT)
    (resolution,) = orm_rows(store, select(DuplicateResolution))
    assert (resolution.left_key, resolution.right_key, resolution.resolution) == (
        "netsuite:20",
        "netsuite:30",
        "distinct",
    )
    assert resolution.created_at.tzinfo is dt.UTC  # stored naive UTC, as every timestamp
    with pytest.raises(InvalidResolution, match="has no Resolve customer"):
        record_resolution(writes, "acme", "netsuite:20", "resolve:cus_nosuch", Resolution.LINKED)
    assert len(orm_rows(store, select(DuplicateResolution))) == 1  # the refused one left nothing
    assert forget_resolution(writes, "acme", "netsuite:20", "netsuite:30") == "distinct"
    assert orm_rows(store, select(DuplicateResolution)) == []

    from resolve_sync.store.connections import add_connection, rotate_credentials
    from resolve_sync.store.secrets import SecretBox
    from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA

    box = SecretBox.from_environment()
    added = add_connection(
        writes,
        box,
        merchant_id="beta",
        netsuite_account_id=ACCOUNT_ID,
        auth_kind="tba",
        credentials=TBA,
        subsidiary_id=2,
        account_timezone="Europe/London",
    )
    beta = pick_connection(EngineReads(store), "beta", 2)
    assert added == beta and beta.enabled and beta.bookkeeping_account_ids == {} and not beta.needs_reconnect
    assert beta.credentials(box) == TBA
    assert (
        rotate_credentials(writes, box) == 2
        and pick_connection(EngineReads(store), "beta").credentials(box) == TBA
    )
    remove_connection(writes, "beta|2")

    assert orm_rows(store, select(SyncRun))
    remove_connection(writes, "acme|3")
    assert orm_rows(store, select(MerchantConnection)) == [] and orm_rows(store, select(SyncRun)) == []
    writes.close()
