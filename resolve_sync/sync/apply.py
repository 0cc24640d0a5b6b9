"""Apply: plan the staged records and write them, in batches that each commit records, links, last-synced
values and outcomes together, so a run killed at any point and run again ends exactly where an
uninterrupted run would (R15). The cursor moves only when the last batch has committed (R17)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, bindparam, exists, insert, or_, select, update
from sqlalchemy.engine import Connection as DB
from sqlalchemy.exc import IntegrityError

from resolve_sync.store.connections import Connection
from resolve_sync.store.database import upsert_insert
from resolve_sync.store.models import (
    RESOLVE_SOURCE_NETSUITE,
    DuplicateResolution,
    InvoiceDrift,
    NetSuiteCustomerLink,
    NetSuiteInvoiceLink,
    ResolveCustomer,
    ResolveInvoice,
    StagedCustomer,
    StagedInvoice,
    SyncCursor,
    SyncRecordOutcome,
    SyncRun,
    utcnow,
)
from resolve_sync.sync.duplicates import Candidate, DuplicatePair, find_duplicates, links_from_resolutions
from resolve_sync.sync.extract import RunContext
from resolve_sync.sync.plan import (
    CREATE,
    FROZEN,
    HELD_BACK,
    INVALID,
    UPDATE,
    Action,
    Link,
    ResolveRow,
    invoice_owner,
    plan_customer,
    plan_invoice,
)
from resolve_sync.sync.transform import Ancestry, CustomerFacts, flag, top_level_ancestors

BATCH = 2000
UPDATED_BY = "resolve_sync"
CAS_ATTEMPTS = 5


# -- loading what the rules need ---------------------------------------------------------------------------


def customer_facts(engine: Engine, connection: Connection) -> dict[str, CustomerFacts]:
    has_filter = bool(connection.filter_field_id)
    with engine.connect() as db:
        rows = db.execute(
            select(
                StagedCustomer.netsuite_id,
                StagedCustomer.parent,
                StagedCustomer.isinactive,
                StagedCustomer.in_scope,
                StagedCustomer.filter_value,
            ).where(StagedCustomer.connection_id == connection.id)
        )
        return {
            r.netsuite_id: CustomerFacts(
                r.netsuite_id,
                r.parent,
                flag(r.isinactive),
                r.in_scope,
                flag(r.filter_value) if has_filter else None,
            )
            for r in rows
        }


def _resolutions(db: DB, merchant_id: str) -> dict[tuple[str, str], str]:
    rows = db.execute(
        select(
            DuplicateResolution.left_key, DuplicateResolution.right_key, DuplicateResolution.resolution
        ).where(DuplicateResolution.merchant_id == merchant_id)
    )
    return {(r.left_key, r.right_key): r.resolution for r in rows}


def duplicate_pairs(
    engine: Engine,
    connection: Connection,
    facts: Mapping[str, CustomerFacts] | None = None,
    ancestry: Mapping[str, Ancestry] | None = None,
) -> list[DuplicatePair]:
    """R12 over everything in scope now (not only what changed): the check the Dagster asset blocks on."""
    facts = facts if facts is not None else customer_facts(engine, connection)
    ancestry = (
        ancestry if ancestry is not None else top_level_ancestors({k: f.parent_id for k, f in facts.items()})
    )
    merchant, account = connection.merchant_id, connection.netsuite_account_id
    with engine.connect() as db:
        linked = set(
            db.scalars(
                select(NetSuiteCustomerLink.netsuite_id).where(
                    NetSuiteCustomerLink.merchant_id == merchant,
                    NetSuiteCustomerLink.netsuite_account_id == account,
                )
            )
        )
        staged = db.execute(
            select(StagedCustomer.netsuite_id, StagedCustomer.companyname, StagedCustomer.email).where(
                StagedCustomer.connection_id == connection.id, StagedCustomer.in_scope
            )
        )
        netsuite = [
            Candidate(
                f"netsuite:{r.netsuite_id}",
                r.companyname,
                r.email,
                r.netsuite_id in linked,
                (ancestry.get(r.netsuite_id) or Ancestry(None)).top_level_id,
            )
            for r in staged
            if facts[r.netsuite_id].filter_checked is not False
        ]
        unlinked = db.execute(
            select(ResolveCustomer.id, ResolveCustomer.business_name, ResolveCustomer.email).where(
                ResolveCustomer.merchant_id == merchant,
                ~exists().where(NetSuiteCustomerLink.resolve_customer_id == ResolveCustomer.id),
            )
        )
        resolve = [Candidate(f"resolve:{r.id}", r.business_name, r.email) for r in unlinked]
        resolved = set(_resolutions(db, merchant))
    return find_duplicates(netsuite, resolve, resolved)


def _plan_rows(
    engine: Engine, ctx: RunContext, table: Any, link_table: Any, *, extra: Any = None
) -> Iterator[list]:
    """Staged rows to plan, in key order and batches: all of them on a full run; otherwise what changed this
    run and what was never synced (held back or invalid before, it may pass now)."""
    merchant, account = ctx.connection.merchant_id, ctx.connection.netsuite_account_id
    not_linked = ~exists().where(
        link_table.merchant_id == merchant,
        link_table.netsuite_account_id == account,
        link_table.netsuite_id == table.netsuite_id,
    )
    conditions = [table.connection_id == ctx.connection.id]
    if table is StagedCustomer:
        conditions.append(table.in_scope.is_(True))
    if ctx.mode != "full":
        conditions.append(
            or_(table.changed_run_id == ctx.run_id, not_linked, *([extra] if extra is not None else []))
        )
    last = ""
    while True:
        with engine.connect() as db:
            batch = (
                db.execute(
                    select(table)
                    .where(*conditions, table.netsuite_id > last)
                    .order_by(table.netsuite_id)
                    .limit(BATCH)
                )
                .mappings()
                .all()
            )
        if not batch:
            return
        yield batch
        last = batch[-1]["netsuite_id"]


def _links(db: DB, link_table: Any, resolve_column: Any, ctx: RunContext, ids: list[str]) -> dict[str, Link]:
    rows = db.execute(
        select(link_table.netsuite_id, resolve_column, link_table.synced_values).where(
            link_table.merchant_id == ctx.connection.merchant_id,
            link_table.netsuite_account_id == ctx.connection.netsuite_account_id,
            link_table.netsuite_id.in_(ids),
        )
    )
    return {r[0]: Link(r[1], r[2]) for r in rows}


# -- the run -----------------------------------------------------------------------------------------------


def apply_run(engine: Engine, ctx: RunContext) -> Counter[str]:
    counts: Counter[str] = Counter()
    facts = customer_facts(engine, ctx.connection)
    ancestry = top_level_ancestors({k: f.parent_id for k, f in facts.items()})
    with engine.connect() as db:
        adopt = links_from_resolutions(_resolutions(db, ctx.connection.merchant_id))
    pending_duplicates = {
        key.split(":", 1)[1]: pair
        for pair in duplicate_pairs(engine, ctx.connection, facts, ancestry)
        for key in pair.keys
        if key.startswith("netsuite:")
    }
    analyzer = _Analyzer(engine)
    for batch in _plan_rows(engine, ctx, StagedCustomer, NetSuiteCustomerLink):
        analyzer.after_batch()
        _apply_batch(
            engine,
            ctx,
            batch,
            counts,
            lambda db, rows: _plan_customers(db, ctx, rows, facts, adopt, pending_duplicates),
        )
    changed_customers = select(StagedCustomer.netsuite_id).where(
        StagedCustomer.connection_id == ctx.connection.id, StagedCustomer.changed_run_id == ctx.run_id
    )
    with engine.connect() as db:
        owners = dict(
            db.execute(
                select(NetSuiteCustomerLink.netsuite_id, NetSuiteCustomerLink.resolve_customer_id).where(
                    NetSuiteCustomerLink.merchant_id == ctx.connection.merchant_id,
                    NetSuiteCustomerLink.netsuite_account_id == ctx.connection.netsuite_account_id,
                )
            ).all()
        )
    for batch in _plan_rows(
        engine, ctx, StagedInvoice, NetSuiteInvoiceLink, extra=StagedInvoice.entity.in_(changed_customers)
    ):
        analyzer.after_batch()
        _apply_batch(
            engine,
            ctx,
            batch,
            counts,
            lambda db, rows: _plan_invoices(db, ctx, rows, facts, ancestry, owners),
        )
    return counts


class _Analyzer:
    """Refreshes PostgreSQL's statistics while a first load grows the tables (after batch 1, 2, 4, 8, …).

    Foreign-key checks run through plans cached per connection; planned while the tables were empty they
    scan instead of using the unique index, which made a first load quadratic. ANALYZE invalidates them."""

    TABLES = ("resolve_customers", "resolve_invoices", "netsuite_customer_links", "netsuite_invoice_links")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.batches = 0

    def after_batch(self) -> None:
        self.batches += 1
        if self.engine.dialect.name != "postgresql" or self.batches & (self.batches - 1):
            return
        with self.engine.begin() as db:
            db.exec_driver_sql("ANALYZE " + ", ".join(self.TABLES))


def _changed_this_run(row: Mapping[str, Any], ctx: RunContext) -> bool:
    """A held-back or invalid record's outcome is recorded again only when NetSuite changed it (or on a full run)."""
    return row["changed_run_id"] == ctx.run_id or ctx.mode == "full"


def _plan_customers(
    db: DB,
    ctx: RunContext,
    rows: list,
    facts: Mapping[str, CustomerFacts],
    adopt: Mapping[str, str],
    duplicates: Mapping[str, DuplicatePair],
) -> list[Action]:
    ids = [r["netsuite_id"] for r in rows]
    links = _links(db, NetSuiteCustomerLink, NetSuiteCustomerLink.resolve_customer_id, ctx, ids)
    wanted = [link.resolve_id for link in links.values()] + [adopt[i] for i in ids if i in adopt]
    versions = {
        r.id: ResolveRow(r.version)
        for r in db.execute(
            select(ResolveCustomer.id, ResolveCustomer.version).where(ResolveCustomer.id.in_(wanted))
        )
    }
    actions = []
    for row in rows:
        netsuite_id = row["netsuite_id"]
        link = links.get(netsuite_id)
        adopt_id = adopt.get(netsuite_id) if link is None else None
        action = plan_customer(
            row,
            facts[netsuite_id],
            link,
            versions.get(link.resolve_id if link else adopt_id or ""),
            adopt_resolve_id=adopt_id,
            filter_field_id=ctx.connection.filter_field_id,
        )
        if action.kind == CREATE and netsuite_id in duplicates:
            pair = duplicates[netsuite_id]
            other = pair.right if pair.left.key == f"netsuite:{netsuite_id}" else pair.left
            action = Action(
                HELD_BACK,
                "customer",
                netsuite_id,
                reason=(
                    f"possible duplicate of {other.key} (same {pair.matched_on}); resolve with `resolve-sync duplicates "
                    f"link` or `distinct` (R12)"
                ),
            )
        action.changed_this_run = _changed_this_run(row, ctx)
        actions.append(action)
    return actions


def _plan_invoices(
    db: DB,
    ctx: RunContext,
    rows: list,
    facts: Mapping[str, CustomerFacts],
    ancestry: Mapping[str, Ancestry],
    owners: Mapping[str, str],
) -> list[Action]:
    ids = [r["netsuite_id"] for r in rows]
    links = _links(db, NetSuiteInvoiceLink, NetSuiteInvoiceLink.resolve_invoice_id, ctx, ids)
    states = {
        r.id: ResolveRow(r.version, r.advanced)
        for r in db.execute(
            select(ResolveInvoice.id, ResolveInvoice.version, ResolveInvoice.advanced).where(
                ResolveInvoice.id.in_([link.resolve_id for link in links.values()])
            )
        )
    }
    actions = []
    for row in rows:
        owner, why = invoice_owner(row["entity"], facts, ancestry, ctx.connection.filter_field_id)
        owner_resolve_id = owners.get(owner) if owner else None
        if owner and owner_resolve_id is None:
            why = f"its customer {owner} is not synced yet (see that customer's outcome)"
        link = links.get(row["netsuite_id"])
        action = plan_invoice(row, owner_resolve_id, why, link, states.get(link.resolve_id) if link else None)
        action.changed_this_run = _changed_this_run(row, ctx)
        actions.append(action)
    return actions


def _apply_batch(engine: Engine, ctx: RunContext, rows: list, counts: Counter[str], planner: Any) -> None:
    """Plan and write one batch in one transaction; a conflicting concurrent writer (another connection
    of the same merchant linking the same customer) makes the batch re-plan against the new state."""
    for attempt in range(CAS_ATTEMPTS):
        try:
            with engine.begin() as db:
                actions = planner(db, rows)
                batch_counts = _write(db, ctx, actions)
            counts.update(batch_counts)
            return
        except IntegrityError:
            if attempt == CAS_ATTEMPTS - 1:
                raise


# -- writing -----------------------------------------------------------------------------------------------


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _write(db: DB, ctx: RunContext, actions: list[Action]) -> Counter[str]:
    counts: Counter[str] = Counter()
    now = utcnow()
    merchant, account = ctx.connection.merchant_id, ctx.connection.netsuite_account_id
    kind = actions[0].record_kind if actions else "customer"
    model, link_model, link_column, prefix = (
        (ResolveCustomer, NetSuiteCustomerLink, "resolve_customer_id", "cus")
        if kind == "customer"
        else (ResolveInvoice, NetSuiteInvoiceLink, "resolve_invoice_id", "inv")
    )
    creates = [a for a in actions if a.kind == CREATE]
    for action in creates:
        action.resolve_id = _new_id(prefix)
    if creates:
        db.execute(
            insert(model),
            [
                {
                    "id": a.resolve_id,
                    "merchant_id": merchant,
                    "netsuite_id": a.netsuite_id,
                    **a.fields,
                    **({"advanced": False} if kind == "invoice" else {}),
                    **({"archived": False} if kind == "invoice" else {}),
                    "source": RESOLVE_SOURCE_NETSUITE,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "updated_by": UPDATED_BY,
                }
                for a in creates
            ],
        )
    new_links = [a for a in actions if a.kind == CREATE or (a.kind == UPDATE and a.adopt)]
    if new_links:
        db.execute(
            insert(link_model),
            [
                {
                    "merchant_id": merchant,
                    "netsuite_account_id": account,
                    "netsuite_id": a.netsuite_id,
                    link_column: a.resolve_id,
                    "synced_values": a.synced_values,
                    "synced_at": now,
                }
                for a in new_links
            ],
        )
    updates = [a for a in actions if a.kind == UPDATE]
    _compare_and_set(db, model, updates, now)
    relinks = [a for a in updates if not a.adopt]
    if relinks:
        db.execute(
            update(link_model)
            .where(
                link_model.merchant_id == merchant,
                link_model.netsuite_account_id == account,
                link_model.netsuite_id == bindparam("b_netsuite_id"),
            )
            .values(synced_values=bindparam("b_synced"), synced_at=now)
            .execution_options(synchronize_session=False),
            [{"b_netsuite_id": a.netsuite_id, "b_synced": a.synced_values} for a in relinks],
        )
    new_drift = _new_drift(db, merchant, [a for a in actions if a.kind == FROZEN])
    if new_drift:
        db.execute(
            insert(InvoiceDrift),
            [
                {
                    "merchant_id": merchant,
                    "resolve_invoice_id": a.resolve_id,
                    "netsuite_id": a.netsuite_id,
                    "run_id": ctx.run_id,
                    "changes": a.drift,
                    "detected_at": now,
                }
                for a in new_drift
            ],
        )
    outcomes = [
        a
        for a in actions
        if a.writes or a in new_drift or (a.kind in (HELD_BACK, INVALID) and a.changed_this_run)
    ]
    if outcomes:
        db.execute(
            insert(SyncRecordOutcome),
            [
                {
                    "run_id": ctx.run_id,
                    "merchant_id": merchant,
                    "record_kind": a.record_kind,
                    "netsuite_id": a.netsuite_id,
                    "resolve_id": a.resolve_id,
                    "outcome": a.kind,
                    "reason": a.reason,
                    "fields": sorted(a.fields) if a.fields else None,
                    "created_at": now,
                }
                for a in outcomes
            ],
        )
    for action in actions:
        counts[action.kind] += 1
        counts[f"{kind}s_{action.kind}"] += 1
        if action.archive_change:
            counts[action.archive_change] += 1
    counts["written"] += len(creates) + len(updates) + len(new_drift) + len(outcomes)
    return counts


def _compare_and_set(db: DB, model: Any, updates: list[Action], now: dt.datetime) -> None:
    """R7: write only the changed fields, and only over the version planned against; a row edited in
    Resolve meanwhile is re-read and the same NetSuite changes applied on top of the edit. A financed
    invoice is never touched, even if it was financed after planning (R8)."""
    pending = list(updates)
    for _ in range(CAS_ATTEMPTS):
        if not pending:
            return
        by_fields: dict[tuple[str, ...], list[Action]] = {}
        for action in pending:
            by_fields.setdefault(tuple(sorted(action.fields)), []).append(action)
        conflicted: list[Action] = []
        for names, group in by_fields.items():
            for action in group:
                conditions = [model.id == action.resolve_id]
                if action.expected_version is not None:
                    conditions.append(model.version == action.expected_version)
                if model is ResolveInvoice:
                    conditions.append(model.advanced.is_(False))
                result = db.execute(
                    update(model)
                    .where(*conditions)
                    .values(
                        **{n: action.fields[n] for n in names},
                        version=model.version + 1,
                        updated_at=now,
                        updated_by=UPDATED_BY,
                    )
                )
                if result.rowcount != 1:
                    conflicted.append(action)
        if not conflicted:
            return
        states = {
            r.id: r for r in db.execute(select(model).where(model.id.in_([a.resolve_id for a in conflicted])))
        }
        pending = []
        for action in conflicted:
            state = states.get(action.resolve_id)
            if state is None or (model is ResolveInvoice and state.advanced):
                action.kind, action.reason = FROZEN, "financed in Resolve during the run; left unchanged (R8)"
                action.drift = {n: {"netsuite": str(v)} for n, v in action.fields.items()}
                continue
            action.expected_version = state.version
            pending.append(action)
    if pending:
        raise IntegrityError("compare-and-set kept failing", None, Exception("concurrent edits"))


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


# -- finishing ---------------------------------------------------------------------------------------------


def finish_run(engine: Engine, ctx: RunContext, counts: Mapping[str, Any]) -> None:
    """Move the pending cursors and mark the run succeeded, in one transaction (R17)."""
    now = utcnow()
    with engine.begin() as db:
        pending = (
            db.execute(select(SyncRun.pending_cursors).where(SyncRun.id == ctx.run_id)).scalar_one() or {}
        )
        upsert = upsert_insert(engine, SyncCursor)
        for stream, position in pending.items():
            values = {
                "connection_id": ctx.connection.id,
                "stream": stream,
                "last_modified": dt.datetime.fromisoformat(position) if position else None,
                "filter_field_id": ctx.connection.filter_field_id,
                "updated_at": now,
            }
            db.execute(
                upsert.values(**values).on_conflict_do_update(
                    index_elements=["connection_id", "stream"],
                    set_={k: v for k, v in values.items() if k not in ("connection_id", "stream")},
                )
            )
        db.execute(
            update(SyncRun)
            .where(SyncRun.id == ctx.run_id)
            .values(status="succeeded", finished_at=now, counts=dict(counts))
        )


def record_rejected_run(
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    error: BaseException,
    dagster_run_id: str | None = None,
) -> int:
    """A run refused before it started (R2, R11): kept in the history so `status` and the CLI can say why."""
    now = utcnow()
    with engine.begin() as db:
        return db.execute(
            insert(SyncRun).values(
                connection_id=connection.id,
                merchant_id=connection.merchant_id,
                dagster_run_id=dagster_run_id,
                mode="rejected",
                as_of=as_of,
                filter_field_id=connection.filter_field_id,
                status="failed",
                started_at=now,
                finished_at=now,
                counts={},
                error=str(error)[:2000],
                pending_cursors={},
            )
        ).inserted_primary_key[0]


def fail_run(
    engine: Engine, run_id: int, error: BaseException, counts: Mapping[str, Any] | None = None
) -> None:
    with engine.begin() as db:
        db.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id, SyncRun.status == "running")
            .values(status="failed", finished_at=utcnow(), error=str(error)[:2000], counts=dict(counts or {}))
        )
