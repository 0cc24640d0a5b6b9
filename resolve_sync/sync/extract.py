"""Extract: read one connection's NetSuite scope and stage it in the store.

Staged rows hold NetSuite's wire values; a content change marks the row with the run that saw it, so the
plan step reads only what changed. Nothing here writes Resolve records, and the cursor found here is
only *pending* until apply commits (R17).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, case, delete, or_, select, update

from resolve_sync.netsuite.client import NetSuiteClient
from resolve_sync.netsuite.errors import NetSuiteQueryError
from resolve_sync.netsuite.fields import check_filter_field
from resolve_sync.netsuite.queries import ACTIVE_SUBSIDIARIES, customer_scan, customers_by_id, invoice_scan
from resolve_sync.netsuite.scan import Rows, full_scan, incremental_scan
from resolve_sync.netsuite.timestamps import local_to_utc, utc_to_local
from resolve_sync.store.connections import Connection
from resolve_sync.store.database import upsert_insert
from resolve_sync.store.models import StagedCustomer, StagedInvoice, SyncCursor, SyncRun, utcnow
from resolve_sync.sync.errors import FilterFieldInvalid, SubsidiaryRequired

INVOICE_LOOKBACK_MONTHS = 12
DEFAULT_OVERLAP = dt.timedelta(minutes=15)
STAGE_BATCH = 1000
CUSTOMER_COLUMNS = (
    "entityid",
    "companyname",
    "email",
    "phone",
    "isinactive",
    "parent",
    "filter_value",
    "lastmodified",
)
INVOICE_COLUMNS = (
    "tranid",
    "trandate",
    "duedate",
    "entity",
    "status",
    "currency",
    "foreigntotal",
    "foreignamountunpaid",
    "memo",
    "lastmodified",
)


@dataclass(frozen=True)
class RunContext:
    """What every step of one sync run agrees on; persisted in `sync_runs` so steps may run in other processes."""

    run_id: int
    connection: Connection
    mode: str  # "full" or "incremental"
    as_of: dt.date
    subsidiary_id: int | None

    @property
    def invoice_window_start(self) -> dt.date:
        return months_before(self.as_of, INVOICE_LOOKBACK_MONTHS)


def months_before(day: dt.date, months: int) -> dt.date:
    """R1: the first day in the window 'within the last 12 months of the run's logical date'."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for candidate_day in range(day.day, 0, -1):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# -- validation (R2, R11) ---------------------------------------------------------------------------------


def resolve_subsidiary(client: NetSuiteClient, connection: Connection) -> int | None:
    """R2: the subsidiary to sync. Several active, non-elimination subsidiaries and none chosen is an error
    that lists them; a chosen one must be among them; one subsidiary, or no OneWorld, needs no choice."""
    try:
        subsidiaries = client.suiteql_all(ACTIVE_SUBSIDIARIES)
    except NetSuiteQueryError as error:
        if connection.subsidiary_id is None and error.detail and "subsidiary" in error.detail.lower():
            return None  # no OneWorld: no subsidiary table
        raise
    choices = ", ".join(f"{s['id']} ({s.get('name', '')})" for s in subsidiaries)
    if connection.subsidiary_id is None:
        if len(subsidiaries) > 1:
            raise SubsidiaryRequired(
                f"Merchant {connection.merchant_id!r}: NetSuite account {connection.netsuite_account_id} has "
                f"{len(subsidiaries)} subsidiaries; choose one with `resolve-sync connections set-subsidiary "
                f"{connection.merchant_id} ID`. Choices: {choices}."
            )
        return int(subsidiaries[0]["id"]) if subsidiaries else None
    if str(connection.subsidiary_id) not in {s["id"] for s in subsidiaries}:
        raise SubsidiaryRequired(
            f"Merchant {connection.merchant_id!r}: subsidiary {connection.subsidiary_id} is not an active, "
            f"non-elimination subsidiary of NetSuite account {connection.netsuite_account_id}. Choices: {choices}."
        )
    return connection.subsidiary_id


def validate_filter_field(client: NetSuiteClient, connection: Connection) -> None:
    """R11: a set filter field must exist, be a checkbox and apply to customers; else nothing is written."""
    if not connection.filter_field_id:
        return
    check = check_filter_field(client, connection.filter_field_id)
    if not check.valid:
        raise FilterFieldInvalid(connection.merchant_id, connection.filter_field_id, check.reason)


# -- runs -------------------------------------------------------------------------------------------------


def start_run(
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    full_refresh: bool,
    subsidiary_id: int | None,
    dagster_run_id: str | None = None,
) -> RunContext:
    """Record a new run. Incremental unless asked, never synced, or the filter field changed (R10).

    One run per connection runs at a time (R13), so an earlier run still marked running was interrupted
    (its process was killed); it is marked failed so the history says so."""
    with engine.begin() as db:
        db.execute(
            update(SyncRun)
            .where(SyncRun.connection_id == connection.id, SyncRun.status == "running")
            .values(
                status="failed",
                finished_at=utcnow(),
                error="interrupted: the run's process ended before it finished",
            )
        )
        cursors = {
            c.stream: c
            for c in db.execute(select(SyncCursor).where(SyncCursor.connection_id == connection.id)).all()
        }
        filter_changed = any(c.filter_field_id != connection.filter_field_id for c in cursors.values())
        full = full_refresh or set(cursors) != {"customers", "invoices"} or filter_changed
        run_id = db.execute(
            SyncRun.__table__.insert().values(
                connection_id=connection.id,
                merchant_id=connection.merchant_id,
                dagster_run_id=dagster_run_id,
                mode="full" if full else "incremental",
                as_of=as_of,
                filter_field_id=connection.filter_field_id,
                status="running",
                started_at=utcnow(),
                counts={},
                subsidiary_id=subsidiary_id,
                pending_cursors={},
            )
        ).inserted_primary_key[0]
    return RunContext(run_id, connection, "full" if full else "incremental", as_of, subsidiary_id)


def load_run(engine: Engine, connection: Connection, run_id: int) -> RunContext:
    with engine.connect() as db:
        run = db.execute(select(SyncRun).where(SyncRun.id == run_id)).one()
    return RunContext(run.id, connection, run.mode, run.as_of, run.subsidiary_id)


# -- extraction -------------------------------------------------------------------------------------------


def _since(engine: Engine, ctx: RunContext, stream: str, overlap: dt.timedelta) -> str | None:
    if ctx.mode == "full":
        return None
    with engine.connect() as db:
        cursor = db.scalar(
            select(SyncCursor.last_modified).where(
                SyncCursor.connection_id == ctx.connection.id, SyncCursor.stream == stream
            )
        )
    if cursor is None:
        return None
    return utc_to_local(cursor - overlap, ctx.connection.account_timezone)


def extract_customers(
    client: NetSuiteClient, engine: Engine, ctx: RunContext, *, overlap: dt.timedelta = DEFAULT_OVERLAP
) -> dict[str, int]:
    """Customers in scope (R1, R9's box value), then any ancestors outside it (R5)."""
    query = customer_scan(subsidiary_id=ctx.subsidiary_id, filter_field_id=ctx.connection.filter_field_id)
    since = _since(engine, ctx, "customers", overlap)
    pages = full_scan(client, query) if since is None else incremental_scan(client, query, since)
    read, latest = _stage(engine, ctx, StagedCustomer, CUSTOMER_COLUMNS, pages, in_scope=True)
    if ctx.mode == "full":
        _sweep(engine, ctx, StagedCustomer)
    ancestors = _stage_missing_ancestors(client, engine, ctx)
    _remember_cursor(engine, ctx, "customers", latest)
    return {"customers_read": read, "ancestors_read": ancestors}


def extract_invoices(
    client: NetSuiteClient, engine: Engine, ctx: RunContext, *, overlap: dt.timedelta = DEFAULT_OVERLAP
) -> dict[str, int]:
    """Invoices of the subsidiary dated within the 12 months before the run's logical date (R1)."""
    query = invoice_scan(subsidiary_id=ctx.subsidiary_id, since=ctx.invoice_window_start)
    since = _since(engine, ctx, "invoices", overlap)
    pages = full_scan(client, query) if since is None else incremental_scan(client, query, since)
    read, latest = _stage(engine, ctx, StagedInvoice, INVOICE_COLUMNS, pages)
    if ctx.mode == "full":
        _sweep(engine, ctx, StagedInvoice)
    _remember_cursor(engine, ctx, "invoices", latest)
    return {"invoices_read": read}


def _upsert(
    engine: Engine,
    table: Any,
    columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    ctx: RunContext,
    *,
    in_scope: bool | None,
) -> None:
    """Insert or update staged rows; a row counts as changed only when a NetSuite value differs."""
    insert = upsert_insert(engine, table)
    content = [c for c in columns if c != "lastmodified"] + (["in_scope"] if in_scope is not None else [])
    differs = or_(*[getattr(table, c).is_distinct_from(getattr(insert.excluded, c)) for c in content])
    values = {
        c: getattr(insert.excluded, c) for c in (*columns, *(["in_scope"] if in_scope is not None else []))
    }
    # Only column references, no bound parameters, in the SET and WHERE clauses: that lets SQLAlchemy send
    # a batch as one multi-row INSERT instead of one statement per row.
    values["changed_run_id"] = case((differs, insert.excluded.changed_run_id), else_=table.changed_run_id)
    values["extracted_run_id"] = insert.excluded.extracted_run_id
    refresh = (
        differs
        if ctx.mode == "incremental"
        else or_(differs, table.extracted_run_id != insert.excluded.extracted_run_id)
    )
    statement = insert.on_conflict_do_update(
        index_elements=["connection_id", "netsuite_id"], set_=values, where=refresh
    )
    with engine.begin() as db:
        db.execute(statement, rows)


def _stage(
    engine: Engine,
    ctx: RunContext,
    table: Any,
    columns: tuple[str, ...],
    pages: Iterable[Rows],
    *,
    in_scope: bool | None = None,
) -> tuple[int, dt.datetime | None]:
    read, latest_local = 0, ""
    buffer: list[dict[str, Any]] = []
    for page in pages:
        for item in page:
            row = {
                "connection_id": ctx.connection.id,
                "netsuite_id": item["id"],
                "changed_run_id": ctx.run_id,
                "extracted_run_id": ctx.run_id,
            }
            row.update({c: _storable(item.get(c)) for c in columns})
            if in_scope is not None:
                row["in_scope"] = in_scope
            buffer.append(row)
            # The fixed TO_CHAR form sorts as it reads; convert only the latest (the overlap window absorbs
            # the one ambiguous hour a year when clocks go back).
            latest_local = max(latest_local, item.get("lastmodified") or "")
        read += len(page)
        if len(buffer) >= STAGE_BATCH:
            _upsert(engine, table, columns, _dedupe(buffer), ctx, in_scope=in_scope)
            buffer = []
    if buffer:
        _upsert(engine, table, columns, _dedupe(buffer), ctx, in_scope=in_scope)
    return read, local_to_utc(latest_local, ctx.connection.account_timezone) if latest_local else None


def _storable(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL; NetSuite text can. Control characters are dropped later anyway."""
    return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value


def _dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per NetSuite id in a statement (a page may repeat an id): the last one read wins."""
    return list({row["netsuite_id"]: row for row in rows}.values())


def _sweep(engine: Engine, ctx: RunContext, table: Any) -> None:
    """After a full read, staged rows NetSuite no longer returns in scope are dropped from staging only;
    Resolve records synced from them stay as they are (R10)."""
    with engine.begin() as db:
        db.execute(
            delete(table).where(
                table.connection_id == ctx.connection.id, table.extracted_run_id != ctx.run_id
            )
        )


def _stage_missing_ancestors(client: NetSuiteClient, engine: Engine, ctx: RunContext) -> int:
    """R5 needs every ancestor of a staged customer, even one outside the subsidiary or the filter."""
    fetched = 0
    for _ in range(64):  # depth bound; a cycle stops when no new id is missing
        with engine.connect() as db:
            parent = StagedCustomer.__table__.alias("parent_row")
            missing = sorted(
                set(
                    db.scalars(
                        select(StagedCustomer.parent)
                        .outerjoin(
                            parent,
                            and_(
                                parent.c.connection_id == StagedCustomer.connection_id,
                                parent.c.netsuite_id == StagedCustomer.parent,
                            ),
                        )
                        .where(
                            StagedCustomer.connection_id == ctx.connection.id,
                            StagedCustomer.parent.is_not(None),
                            parent.c.netsuite_id.is_(None),
                        )
                    )
                )
            )
        if not missing:
            return fetched
        for chunk in _chunks(missing, 1000):
            rows = client.suiteql_all(customers_by_id(chunk, filter_field_id=ctx.connection.filter_field_id))
            found = {row["id"] for row in rows}
            if rows:
                _insert_ancestors(engine, ctx, rows)
            fetched += len(rows)
            if found != set(chunk):
                # Ids NetSuite did not return (deleted parents) end the walk for those chains; R5 holds
                # their invoices back with the reason instead of guessing an owner.
                missing_now = set(chunk) - found
                if missing_now == set(missing):
                    return fetched
    return fetched


def _insert_ancestors(engine: Engine, ctx: RunContext, rows: Rows) -> None:
    insert = upsert_insert(engine, StagedCustomer)
    values = [
        {
            "connection_id": ctx.connection.id,
            "netsuite_id": r["id"],
            "in_scope": False,
            "changed_run_id": ctx.run_id,
            "extracted_run_id": ctx.run_id,
            **{c: r.get(c) for c in CUSTOMER_COLUMNS},
        }
        for r in rows
    ]
    with engine.begin() as db:
        db.execute(insert.on_conflict_do_nothing(index_elements=["connection_id", "netsuite_id"]), values)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _remember_cursor(engine: Engine, ctx: RunContext, stream: str, latest: dt.datetime | None) -> None:
    """The position the next incremental read starts from, kept pending on the run until apply commits."""
    with engine.begin() as db:
        run = db.execute(select(SyncRun.pending_cursors).where(SyncRun.id == ctx.run_id)).scalar_one()
        previous = db.scalar(
            select(SyncCursor.last_modified).where(
                SyncCursor.connection_id == ctx.connection.id, SyncCursor.stream == stream
            )
        )
        position = max(p for p in (latest, previous) if p is not None) if (latest or previous) else None
        pending = dict(run or {})
        pending[stream] = position.isoformat() if position else None
        db.execute(update(SyncRun).where(SyncRun.id == ctx.run_id).values(pending_cursors=pending))
