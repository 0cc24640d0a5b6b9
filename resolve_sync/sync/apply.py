"""Apply: plan the staged records and write them, in batches that each commit records, links, last-synced
values and outcomes together, so a run killed at any point and run again ends exactly where an
uninterrupted run would (R15). The cursor moves only after the last batch commits (R17, in the ledger)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.engine import Connection as DB
from sqlalchemy.exc import IntegrityError

from resolve_sync.kinds import Outcome, RecordKind
from resolve_sync.store.models import NetSuiteCustomerLink, NetSuiteInvoiceLink, StagedCustomer, StagedInvoice
from resolve_sync.sync import lookups
from resolve_sync.sync.duplicates import (
    DuplicatePair,
    duplicate_pairs,
    hold_back_duplicate,
    links_from_resolutions,
    pairs_by_netsuite_id,
    resolutions,
)
from resolve_sync.sync.hierarchy import Ancestry, descendants_of, invoice_owner, top_level_ancestors
from resolve_sync.sync.ledger import RunContext, fence
from resolve_sync.sync.plan import plan_customer, plan_invoice
from resolve_sync.sync.records import Action, CustomerFacts
from resolve_sync.sync.writer import CAS_ATTEMPTS, write_actions

BATCH = 2000
# Past this many customers whose invoices may have a new owner, planning every staged invoice is cheaper
# than a long IN list.
MAX_AFFECTED_CUSTOMERS = 5000
Planner = Callable[[DB, list[Mapping[str, Any]]], list[Action]]


@dataclass(frozen=True)
class CustomerTree:
    """The staged customers as the rules see them (R5's facts and top-level ancestors), read once a run:
    the customers' and the invoices' plans both need them."""

    facts: dict[str, CustomerFacts]
    ancestry: dict[str, Ancestry]


def customer_tree(engine: Engine, ctx: RunContext) -> CustomerTree:
    facts = lookups.customer_facts(engine, ctx.connection)
    return CustomerTree(facts, top_level_ancestors({k: f.parent_id for k, f in facts.items()}))


def apply_customers(engine: Engine, ctx: RunContext, tree: CustomerTree) -> Counter[str]:
    """Before the invoices (`apply_invoices` or `apply_invoices_as_staged`): they need their owners'
    Resolve ids."""
    counts: Counter[str] = Counter()
    adopt = links_from_resolutions(resolutions(engine, ctx.connection.merchant_id))
    duplicates = pairs_by_netsuite_id(duplicate_pairs(engine, ctx.connection, tree.facts, tree.ancestry))
    for batch in _rows_to_plan(engine, ctx, StagedCustomer, NetSuiteCustomerLink):
        _apply_batch(
            engine,
            ctx,
            batch,
            counts,
            lambda db, rows: _plan_customers(db, ctx, rows, tree.facts, adopt, duplicates),
        )
    return counts


def apply_invoices(engine: Engine, ctx: RunContext, tree: CustomerTree) -> Counter[str]:
    """After the customers: an invoice's owner must have its Resolve id, or the invoice is held back."""
    affected = descendants_of(lookups.owners_changed_since(engine, ctx), tree.facts)
    everything = ctx.full or len(affected) > MAX_AFFECTED_CUSTOMERS
    extra = None if everything else StagedInvoice.entity.in_(sorted(affected))
    return _write_invoices(
        engine,
        ctx,
        tree,
        _rows_to_plan(engine, ctx, StagedInvoice, NetSuiteInvoiceLink, extra=extra, everything=everything),
    )


def apply_invoices_as_staged(
    engine: Engine, ctx: RunContext, tree: CustomerTree, staged: Iterable[list[str]]
) -> Counter[str]:
    """A full run's invoices, planned batch by batch as the reading thread stages them (`staged`: their ids,
    in the order staged). A full read returns each invoice once, so this plans what `apply_invoices`
    would: every invoice the run staged, and nothing staged before it (the sweep drops that)."""
    return _write_invoices(
        engine, ctx, tree, _rows_by_id(engine, StagedInvoice, ctx.connection.id, _regrouped(staged, BATCH))
    )


def _write_invoices(
    engine: Engine, ctx: RunContext, tree: CustomerTree, batches: Iterable[list[Mapping[str, Any]]]
) -> Counter[str]:
    counts: Counter[str] = Counter()
    owners = lookups.customer_owners(engine, ctx.connection)
    for batch in batches:
        _apply_batch(
            engine,
            ctx,
            batch,
            counts,
            lambda db, rows: _plan_invoices(db, ctx, rows, tree.facts, tree.ancestry, owners),
        )
    return counts


def _regrouped(batches: Iterable[list[str]], size: int) -> Iterator[list[str]]:
    pending: list[str] = []
    for ids in batches:
        pending += ids
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def _rows_to_plan(
    engine: Engine,
    ctx: RunContext,
    table: Any,
    link_table: Any,
    *,
    extra: Any = None,
    everything: bool | None = None,
) -> Iterator[list[Mapping[str, Any]]]:
    """Staged rows to plan, in key order and batches: all of them on a full run; otherwise what changed
    since the last successful run (R15: a change staged by a run that never wrote it is planned again), what
    was never synced, and invoices the last plan kept out, linked or not (held back or invalid before,
    they may pass now)."""
    merchant, account = ctx.connection.merchant_id, ctx.connection.netsuite_account_id
    # "Not linked" as an outer join on the link's unique key rather than NOT EXISTS: inside the OR below,
    # PostgreSQL would otherwise hash the merchant's whole link table.
    link = link_table.__table__.alias("link")
    source = table.__table__.outerjoin(
        link,
        and_(
            link.c.merchant_id == merchant,
            link.c.netsuite_account_id == account,
            link.c.netsuite_id == table.netsuite_id,
        ),
    )
    conditions = [table.connection_id == ctx.connection.id]
    if table is StagedCustomer:
        conditions.append(table.in_scope.is_(True))
    planned_all = ctx.full if everything is None else everything
    if not planned_all:
        changed = table.changed_run_id > ctx.since_run_id
        not_linked = link.c.netsuite_id.is_(None)
        kept_out = [table.kept_out.is_(True)] if table is StagedInvoice else []
        conditions.append(or_(changed, not_linked, *kept_out, *([extra] if extra is not None else [])))
        yield from _chosen_rows(engine, table, source, conditions, ctx.connection.id)
        return
    last = ""
    while True:
        with engine.connect() as db:
            batch = list(
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


def _chosen_rows(
    engine: Engine, table: Any, source: Any, conditions: list[Any], connection_id: int
) -> Iterator[list[Mapping[str, Any]]]:
    """The rows an incremental run plans, chosen in one query and read by key in batches. Paging the
    choice itself (`… AND netsuite_id > last ORDER BY netsuite_id LIMIT n`) cannot use an index through
    its OR, so every batch scanned the rest of the table: quadratic in a mass change (100k customers and
    500k invoices: most of its time)."""
    with engine.connect() as db:
        chosen = list(
            db.scalars(
                select(table.netsuite_id).select_from(source).where(*conditions).order_by(table.netsuite_id)
            )
        )
    yield from _rows_by_id(
        engine,
        table,
        connection_id,
        (chosen[start : start + BATCH] for start in range(0, len(chosen), BATCH)),
    )


def _rows_by_id(
    engine: Engine, table: Any, connection_id: int, batches: Iterable[list[str]]
) -> Iterator[list[Mapping[str, Any]]]:
    """Each batch of ids' staged rows, read by key, in key order."""
    for ids in batches:
        with engine.connect() as db:
            yield list(
                db.execute(
                    select(table)
                    .where(table.connection_id == connection_id, table.netsuite_id.in_(ids))
                    .order_by(table.netsuite_id)
                )
                .mappings()
                .all()
            )


def _changed_this_run(row: Mapping[str, Any], ctx: RunContext) -> bool:
    """A held-back or invalid record's outcome is recorded again only when NetSuite changed it (or on a full run)."""
    return row["changed_run_id"] > ctx.since_run_id or ctx.full


def _plan_customers(
    db: DB,
    ctx: RunContext,
    rows: list[Mapping[str, Any]],
    facts: Mapping[str, CustomerFacts],
    adopt: Mapping[str, str],
    duplicates: Mapping[str, DuplicatePair],
) -> list[Action]:
    ids = [r["netsuite_id"] for r in rows]
    links = lookups.links(db, ctx.connection, RecordKind.CUSTOMER, ids)
    wanted = [link.resolve_id for link in links.values()] + [adopt[i] for i in ids if i in adopt]
    versions = lookups.resolve_rows(db, RecordKind.CUSTOMER, wanted)
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
        action.changed_this_run = _changed_this_run(row, ctx)
        actions.append(hold_back_duplicate(action, duplicates.get(netsuite_id), ctx.connection.merchant_id))
    return actions


def _plan_invoices(
    db: DB,
    ctx: RunContext,
    rows: list[Mapping[str, Any]],
    facts: Mapping[str, CustomerFacts],
    ancestry: Mapping[str, Ancestry],
    owners: Mapping[str, str],
) -> list[Action]:
    links = lookups.links(db, ctx.connection, RecordKind.INVOICE, [r["netsuite_id"] for r in rows])
    states = lookups.resolve_rows(db, RecordKind.INVOICE, [link.resolve_id for link in links.values()])
    actions = []
    for row in rows:
        owner = invoice_owner(row["entity"], facts, ancestry, ctx.connection.filter_field_id)
        owner_resolve_id = owners.get(owner.netsuite_id) if owner.netsuite_id else None
        link = links.get(row["netsuite_id"])
        action = plan_invoice(
            row, owner, owner_resolve_id, link, states.get(link.resolve_id) if link else None
        )
        action.changed_this_run = _changed_this_run(row, ctx)
        actions.append(action)
    return actions


def _apply_batch(
    engine: Engine, ctx: RunContext, rows: list[Mapping[str, Any]], counts: Counter[str], planner: Planner
) -> None:
    """Plan and write one batch in one transaction; a conflicting concurrent writer (another connection
    of the same merchant linking the same customer) makes the batch re-plan against the new state."""
    for attempt in range(CAS_ATTEMPTS):
        try:
            with engine.begin() as db:
                fence(db, ctx)
                actions = planner(db, rows)
                batch_counts = write_actions(db, ctx, actions)
                _remember_kept_out(db, ctx, rows, actions)
            counts.update(batch_counts)
            return
        except IntegrityError:
            if attempt == CAS_ATTEMPTS - 1:
                raise


KEPT_OUT = (Outcome.HELD_BACK, Outcome.INVALID)


def _remember_kept_out(db: DB, ctx: RunContext, rows: list[Mapping[str, Any]], actions: list[Action]) -> None:
    """Mark staged invoices whose plan kept them out, and unmark those written now, in the batch's own
    transaction: a kept-out invoice is planned every run until it passes (`_rows_to_plan`)."""
    if not rows or "kept_out" not in rows[0]:
        return
    flips = {
        action.netsuite_id: action.kind in KEPT_OUT
        for row, action in zip(rows, actions, strict=True)
        if bool(row["kept_out"]) != (action.kind in KEPT_OUT)
    }
    for value in (True, False):
        ids = [netsuite_id for netsuite_id, kept in flips.items() if kept is value]
        if ids:
            db.execute(
                update(StagedInvoice)
                .where(StagedInvoice.connection_id == ctx.connection.id, StagedInvoice.netsuite_id.in_(ids))
                .values(kept_out=value)
            )
