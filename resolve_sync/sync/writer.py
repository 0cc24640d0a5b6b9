"""The writer: carries out one batch of planned actions in the caller's transaction.

Resolve rows and their links with the last-synced values, compare-and-set updates (R7), drift for financed
invoices (R8) and the per-record outcomes (SPEC §4) are written together, so a batch is all or nothing.

Every write is a set operation on the batch, never a statement per record. On PostgreSQL new rows (records,
links, outcomes) go in with `COPY`, and updates are one `UPDATE … FROM` per set of changed fields over a
delta copied into a temporary table, guarded by the planned version (R7) and, for invoices, by `advanced`
(R8); the ids it returns tell which rows were edited meanwhile, and only those take the per-row re-read
and retry. SQLite, in process, takes the same batches through `executemany`. What to write was decided by
the pure rules (`plan.py`, `transform.py`); nothing here decides it again.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Engine, insert, select, text, update
from sqlalchemy.engine import Connection as DB
from sqlalchemy.exc import IntegrityError

from resolve_sync.kinds import Outcome, RecordKind
from resolve_sync.netsuite.responses import RejectedRow
from resolve_sync.store.database import copy_rows
from resolve_sync.store.models import (
    RESOLVE_SOURCE_NETSUITE,
    InvoiceDrift,
    NetSuiteCustomerLink,
    NetSuiteInvoiceLink,
    ResolveCustomer,
    ResolveInvoice,
    SyncRecordOutcome,
    utcnow,
)
from resolve_sync.sync.ledger import RunContext, fence
from resolve_sync.sync.plan import freeze_financed
from resolve_sync.sync.records import Action

UPDATED_BY = "resolve_sync"
UNKNOWN_ID = "unknown"  # the outcome of a row NetSuite sent without a usable id
CAS_ATTEMPTS = 5
TABLES = {
    RecordKind.CUSTOMER: (ResolveCustomer, NetSuiteCustomerLink, "resolve_customer_id", "cus"),
    RecordKind.INVOICE: (ResolveInvoice, NetSuiteInvoiceLink, "resolve_invoice_id", "inv"),
}


def new_resolve_ids(prefix: str, count: int) -> list[str]:
    """Ids of the Resolve API's form (`cus_` and 24 random hex digits), drawn in one call for a batch."""
    digits = os.urandom(12 * count).hex()
    return [f"{prefix}_{digits[i : i + 24]}" for i in range(0, 24 * count, 24)]


def write_actions(db: DB, ctx: RunContext, actions: list[Action]) -> Counter[str]:
    """Write one batch of actions of one record kind; returns what was done, counted."""
    if not actions:
        return Counter()
    now = utcnow()
    kind = actions[0].record_kind
    creates = [a for a in actions if a.kind == Outcome.CREATED]
    _insert_records(db, ctx, kind, creates, now)
    _insert_links(db, ctx, kind, [a for a in actions if a.kind == Outcome.CREATED or a.adopt], now)
    updates = [a for a in actions if a.kind == Outcome.UPDATED]
    compare_and_set(db, TABLES[kind][0], updates, now)
    _update_links(db, ctx, kind, [a for a in updates if not a.adopt], now)
    drift = _new_drift(db, ctx.connection.merchant_id, [a for a in actions if a.kind == Outcome.FROZEN])
    _insert_drift(db, ctx, drift, now)
    kept_out = [a for a in actions if a.kind in (Outcome.HELD_BACK, Outcome.INVALID)]
    retold = _story_changed(db, ctx, kind, [a for a in kept_out if not a.changed_this_run])
    # By identity: `in` on the lists compared every field of every action (quadratic in the batch).
    told = {id(a) for a in drift} | {id(a) for a in kept_out if a.changed_this_run} | {id(a) for a in retold}
    outcomes = [a for a in actions if a.writes or id(a) in told]
    _insert_outcomes(db, ctx, outcomes, now)
    counts: Counter[str] = Counter()
    for action in actions:
        counts[action.kind] += 1
        counts[f"{kind}s_{action.kind}"] += 1
        if action.archive_change:
            counts[action.archive_change] += 1
    counts["written"] += len(creates) + len(updates) + len(drift) + len(outcomes)
    return counts


def _insert_records(
    db: DB, ctx: RunContext, kind: RecordKind, creates: list[Action], now: dt.datetime
) -> None:
    if not creates:
        return
    model, _, _, prefix = TABLES[kind]
    invoice_defaults = {"advanced": False, "archived": False} if kind == RecordKind.INVOICE else {}
    for action, resolve_id in zip(creates, new_resolve_ids(prefix, len(creates)), strict=True):
        action.resolve_id = resolve_id
    _insert_rows(
        db,
        model,
        [
            {
                "id": a.resolve_id,
                "merchant_id": ctx.connection.merchant_id,
                "netsuite_id": a.netsuite_id,
                **a.fields,
                **invoice_defaults,
                "source": RESOLVE_SOURCE_NETSUITE,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "updated_by": UPDATED_BY,
            }
            for a in creates
        ],
    )


def _insert_rows(db: DB, model: Any, rows: list[dict[str, Any]]) -> None:
    """New rows of one table, all with the same keys: `COPY` on PostgreSQL, `executemany` elsewhere."""
    if not rows:
        return
    columns = list(rows[0])
    if db.dialect.name != "postgresql":
        # The driver's executemany with the columns' own bind processors (stored exactly as through
        # SQLAlchemy), without SQLAlchemy's per-row parameter handling, which cost more than the inserts.
        marks = ", ".join("?" * len(columns))
        db.exec_driver_sql(
            f"INSERT INTO {model.__tablename__} ({', '.join(columns)}) VALUES ({marks})",
            _bound(db, model, columns, list(map(list, map(itemgetter(*columns), rows)))),
        )
        return
    values = itemgetter(*columns)
    copy_rows(db, model.__tablename__, columns, (values(row) for row in rows))
    if model is not SyncRecordOutcome:
        keep_statistics(db, model.__tablename__, len(rows))


def _bound(db: DB, model: Any, columns: Sequence[str], rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    """Rows as the driver takes them: each value through its column's bind processor."""
    processors = [(i, p) for i, c in enumerate(columns) if (p := _bind_processor(db, model, c))]
    for i, process in processors:
        last_in: Any = object()
        last_out: Any = None
        for row in rows:
            value = row[i]
            if value is not last_in:  # a batch shares many values (its timestamp): process each once
                last_in, last_out = value, process(value)
            row[i] = last_out
    return [tuple(row) for row in rows]


def _bind_processor(db: DB, model: Any, column: str) -> Any:
    """The column's bind processor; for JSON, orjson's compact text (the same JSON as SQLAlchemy's
    `json.dumps`, without its spaces, several times faster; `None` is JSON null as there)."""
    kind = model.__table__.c[column].type
    if isinstance(kind, JSON):
        return _json_text
    return kind._cached_bind_processor(db.dialect)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def keep_statistics(db: DB, table: str, added: int) -> None:
    """ANALYZE a table whose statistics say it holds fewer rows than this batch just added (a first load),
    in the batch's own transaction, so it counts the rows just copied. The foreign-key checks of the next
    COPY and the link lookups run through plans cached per connection; planned while the tables looked
    empty they scan instead of using the unique index, which made a first load quadratic. Once analysed
    with rows, the planner scales the estimate with the table's size itself, so a big table is not analysed
    again."""
    estimate = db.scalar(
        text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"), {"table": table}
    )
    if estimate is None or estimate < added:
        db.exec_driver_sql(f"ANALYZE {table}")


def _insert_links(db: DB, ctx: RunContext, kind: RecordKind, actions: list[Action], now: dt.datetime) -> None:
    if not actions:
        return
    _, link_model, link_column, _ = TABLES[kind]
    _insert_rows(
        db,
        link_model,
        [
            {
                "merchant_id": ctx.connection.merchant_id,
                "netsuite_account_id": ctx.connection.netsuite_account_id,
                "netsuite_id": a.netsuite_id,
                link_column: a.resolve_id,
                "synced_values": a.synced_values,
                "synced_at": now,
            }
            for a in actions
        ],
    )


def _update_links(db: DB, ctx: RunContext, kind: RecordKind, actions: list[Action], now: dt.datetime) -> None:
    """Remember the NetSuite values just handled. An update the compare-and-set turned into drift (financed
    meanwhile) is remembered too: its change is recorded as drift once, not again every run."""
    if not actions:
        return
    link_model = TABLES[kind][1]
    if db.dialect.name == "postgresql":
        delta = _copy_delta(
            db,
            link_model.__tablename__,
            ["netsuite_id", "synced_values"],
            [(a.netsuite_id, a.synced_values) for a in actions],
        )
        db.execute(
            text(
                f"UPDATE {link_model.__tablename__} AS link SET synced_values = delta.synced_values, "
                f"synced_at = :now FROM {delta} AS delta WHERE link.merchant_id = :merchant "
                "AND link.netsuite_account_id = :account AND link.netsuite_id = delta.netsuite_id"
            ),
            {
                "now": now.astimezone(dt.UTC).replace(tzinfo=None),
                "merchant": ctx.connection.merchant_id,
                "account": ctx.connection.netsuite_account_id,
            },
        )
        db.exec_driver_sql(f"DROP TABLE {delta}")
        return
    # The driver's executemany with the columns' own bind processors, as `_insert_rows` does on SQLite.
    merchant, account = ctx.connection.merchant_id, ctx.connection.netsuite_account_id
    db.exec_driver_sql(
        f"UPDATE {link_model.__tablename__} SET synced_values = ?, synced_at = ? "
        "WHERE merchant_id = ? AND netsuite_account_id = ? AND netsuite_id = ?",
        _bound(
            db,
            link_model,
            ["synced_values", "synced_at", "merchant_id", "netsuite_account_id", "netsuite_id"],
            [[a.synced_values, now, merchant, account, a.netsuite_id] for a in actions],
        ),
    )


def _copy_delta(db: DB, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> str:
    """A temporary table shaped like `table`'s `columns` (plus any `expected_version`), filled with `COPY`;
    dropped by the caller once used, and at commit at the latest."""
    name = f"delta_{uuid.uuid4().hex[:12]}"
    selected = ", ".join("version AS expected_version" if c == "expected_version" else c for c in columns)
    db.exec_driver_sql(
        f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {selected} FROM {table} WITH NO DATA"
    )
    copy_rows(db, name, columns, rows)
    db.exec_driver_sql(f"ANALYZE {name}")
    return name


def compare_and_set(db: DB, model: Any, updates: list[Action], now: dt.datetime) -> None:
    """R7: write only the changed fields, and only over the version planned against; a row edited in
    Resolve meanwhile is re-read and the same NetSuite changes applied on top of the edit. A financed
    invoice is never touched, even if it was financed after planning (R8)."""
    pending = list(updates)
    for attempt in range(CAS_ATTEMPTS):
        if not pending:
            return
        if attempt == 0 and db.dialect.name == "postgresql":
            conflicted = _set_many(db, model, pending, now)
        elif attempt == 0:
            conflicted = _set_executemany(db, model, pending, now)
        else:
            conflicted = [action for action in pending if not _set_one(db, model, action, now)]
        if not conflicted:
            return
        states = {
            r.id: r for r in db.execute(select(model).where(model.id.in_([a.resolve_id for a in conflicted])))
        }
        pending = []
        for action in conflicted:
            state = states.get(action.resolve_id)
            if state is None or (model is ResolveInvoice and state.advanced):
                _refreeze(action)
                continue
            action.expected_version = state.version
            pending.append(action)
    if pending:
        raise IntegrityError("compare-and-set kept failing", None, Exception("concurrent edits"))


def _set_many(db: DB, model: Any, actions: list[Action], now: dt.datetime) -> list[Action]:
    """The set-based compare-and-set: one `UPDATE … FROM` per set of changed fields, over the delta, only
    where the row still has the planned version (and, for an invoice, is not financed). Returns the actions
    it could not apply (edited or financed meanwhile)."""
    table = model.__tablename__
    by_fields: dict[tuple[str, ...], list[Action]] = defaultdict(list)
    for action in actions:
        by_fields[tuple(sorted(action.fields))].append(action)
    applied: set[str] = set()
    for names, group in by_fields.items():
        delta = _copy_delta(
            db,
            table,
            ["id", "expected_version", *names],
            [(a.resolve_id, a.expected_version, *(a.fields[n] for n in names)) for a in group],
        )
        assignments = "".join(f"{name} = delta.{name}, " for name in names)
        financed = " AND NOT record.advanced" if model is ResolveInvoice else ""
        applied.update(
            db.execute(
                text(
                    f"UPDATE {table} AS record SET {assignments}version = record.version + 1, "
                    f"updated_at = :now, updated_by = :by FROM {delta} AS delta WHERE record.id = delta.id "
                    "AND (delta.expected_version IS NULL OR record.version = delta.expected_version)"
                    f"{financed} RETURNING record.id"
                ),
                {"now": now.astimezone(dt.UTC).replace(tzinfo=None), "by": UPDATED_BY},
            ).scalars()
        )
        db.exec_driver_sql(f"DROP TABLE {delta}")
    return [action for action in actions if action.resolve_id not in applied]


def _set_executemany(db: DB, model: Any, actions: list[Action], now: dt.datetime) -> list[Action]:
    """The batched compare-and-set for SQLite: one executemany per set of changed fields, each row guarded
    by its planned version (and `advanced`). When fewer rows changed than were sent, the rows this batch
    wrote are told apart by their `updated_at`, this batch's own timestamp."""
    table = model.__tablename__
    by_fields: dict[tuple[str, ...], list[Action]] = defaultdict(list)
    for action in actions:
        by_fields[tuple(sorted(action.fields))].append(action)
    missed = 0
    for names, group in by_fields.items():
        assignments = "".join(f"{name} = ?, " for name in names)
        financed = " AND advanced = 0" if model is ResolveInvoice else ""
        rows = _bound(
            db,
            model,
            [*names, "updated_at", "updated_by", "id", "version", "version"],
            [
                [
                    *(a.fields[n] for n in names),
                    now,
                    UPDATED_BY,
                    a.resolve_id,
                    a.expected_version,
                    a.expected_version,
                ]
                for a in group
            ],
        )
        result = db.exec_driver_sql(
            f"UPDATE {table} SET {assignments}version = version + 1, updated_at = ?, updated_by = ? "
            f"WHERE id = ? AND (? IS NULL OR version = ?){financed}",
            rows,
        )
        missed += len(group) - result.rowcount
    if not missed:
        return []
    written = set(
        db.scalars(
            select(model.id).where(
                model.id.in_([a.resolve_id for a in actions]),
                model.updated_at == now,
                model.updated_by == UPDATED_BY,
            )
        )
    )
    return [action for action in actions if action.resolve_id not in written]


def _set_one(db: DB, model: Any, action: Action, now: dt.datetime) -> bool:
    conditions = [model.id == action.resolve_id]
    if action.expected_version is not None:
        conditions.append(model.version == action.expected_version)
    if model is ResolveInvoice:
        conditions.append(model.advanced.is_(False))
    result = db.execute(
        update(model)
        .where(*conditions)
        .values(**action.fields, version=model.version + 1, updated_at=now, updated_by=UPDATED_BY)
    )
    return result.rowcount == 1


def _refreeze(action: Action) -> None:
    """Financed in Resolve between plan and write: R8 holds, the planned change becomes drift."""
    frozen = freeze_financed(action.netsuite_id, action.resolve_id or "", action.fields, {})
    action.kind, action.drift = frozen.kind, frozen.drift
    action.reason = "financed in Resolve during the run; " + (frozen.reason or "")


def _new_drift(db: DB, merchant: str, frozen: list[Action]) -> list[Action]:
    """Drift is recorded once per distinct NetSuite change, not once per run."""
    if not frozen:
        return []
    latest: dict[str, Any] = {}
    for row in db.execute(
        select(InvoiceDrift.resolve_invoice_id, InvoiceDrift.changes)
        .where(
            InvoiceDrift.merchant_id == merchant,
            InvoiceDrift.resolve_invoice_id.in_([a.resolve_id for a in frozen]),
        )
        .order_by(InvoiceDrift.id)
    ):
        latest[row.resolve_invoice_id] = row.changes
    return [a for a in frozen if latest.get(a.resolve_id) != a.drift]


def _insert_drift(db: DB, ctx: RunContext, drift: list[Action], now: dt.datetime) -> None:
    if not drift:
        return
    db.execute(
        insert(InvoiceDrift),
        [
            {
                "merchant_id": ctx.connection.merchant_id,
                "resolve_invoice_id": a.resolve_id,
                "netsuite_id": a.netsuite_id,
                "run_id": ctx.run_id,
                "changes": a.drift,
                "detected_at": now,
            }
            for a in drift
        ],
    )


def record_unreadable(engine: Engine, ctx: RunContext, kind: RecordKind, rejected: list[RejectedRow]) -> None:
    """§4: a record NetSuite sent in a shape the sync cannot read is an `invalid` outcome with the reason,
    not a failed run; what was synced from it before stays as it is."""
    if not rejected:
        return
    now = utcnow()
    with engine.begin() as db:
        fence(db, ctx)
        db.execute(
            insert(SyncRecordOutcome),
            [
                {
                    "run_id": ctx.run_id,
                    "merchant_id": ctx.connection.merchant_id,
                    "record_kind": kind,
                    "netsuite_id": (row.netsuite_id or UNKNOWN_ID)[:40],
                    "resolve_id": None,
                    "outcome": Outcome.INVALID,
                    "reason": f"NetSuite sent this {kind} in a shape the sync cannot read: {row.reason} "
                    f"(at {row.json_path})",
                    "fields": None,
                    "created_at": now,
                }
                for row in rejected
            ],
        )


def _story_changed(db: DB, ctx: RunContext, kind: RecordKind, actions: list[Action]) -> list[Action]:
    """Held-back and invalid records whose outcome or reason differs from the last one recorded (or that
    have none): an unchanged NetSuite record can still be kept out for a new reason (its owner left the
    subsidiary), and every record kept out of Resolve must have an outcome saying why (SPEC §4)."""
    if not actions:
        return []
    latest: dict[str, tuple[str, str | None]] = {}
    for row in db.execute(
        select(SyncRecordOutcome.netsuite_id, SyncRecordOutcome.outcome, SyncRecordOutcome.reason)
        .where(
            SyncRecordOutcome.merchant_id == ctx.connection.merchant_id,
            SyncRecordOutcome.record_kind == kind,
            SyncRecordOutcome.netsuite_id.in_([a.netsuite_id for a in actions]),
        )
        .order_by(SyncRecordOutcome.id)
    ):
        latest[row.netsuite_id] = (row.outcome, row.reason)
    return [a for a in actions if latest.get(a.netsuite_id) != (str(a.kind), a.reason)]


def _insert_outcomes(db: DB, ctx: RunContext, actions: list[Action], now: dt.datetime) -> None:
    if not actions:
        return
    _insert_rows(
        db,
        SyncRecordOutcome,
        [
            {
                "run_id": ctx.run_id,
                "merchant_id": ctx.connection.merchant_id,
                "record_kind": a.record_kind,
                "netsuite_id": a.netsuite_id,
                "resolve_id": a.resolve_id,
                "outcome": a.kind,
                "reason": a.reason,
                "fields": sorted(a.fields) if a.fields else None,
                "created_at": now,
            }
            for a in actions
        ],
    )
