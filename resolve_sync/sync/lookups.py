"""Reading what the rules need from the store: customer facts, links with their last-synced values, and the
Resolve rows' versions and financing. Plain queries returning the plain records of `records.py`.

The queries are plain SQL over `store.reads`, written once: the sync runs them over its engine or inside a
batch's transaction (a SQLAlchemy connection), and `resolve-sync explain` and `duplicates list` over the bare
driver, without importing SQLAlchemy. Values come back as the models hold them on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Union

from resolve_sync.kinds import RecordKind
from resolve_sync.store.reads import Reads, as_reads, document
from resolve_sync.sync.records import CustomerFacts, Link, ResolveRow
from resolve_sync.sync.transform import flag

if TYPE_CHECKING:
    from sqlalchemy import Connection as DB
    from sqlalchemy import Engine

    from resolve_sync.store.connection_records import Connection
    from resolve_sync.sync.ledger import RunContext

Source = Union["Engine", "DB", Reads]


def customer_facts(source: Source, connection: Connection) -> dict[str, CustomerFacts]:
    """Every staged customer of the connection (in scope, and ancestors fetched for R5)."""
    has_filter = bool(connection.filter_field_id)
    rows = as_reads(source).rows(
        "SELECT netsuite_id, parent, isinactive, in_scope, filter_value FROM netsuite_staged_customers "
        "WHERE connection_id = :connection",
        {"connection": connection.id},
    )
    return {
        netsuite_id: CustomerFacts(
            netsuite_id,
            parent,
            flag(isinactive),
            bool(in_scope),
            flag(filter_value) if has_filter else None,
        )
        for netsuite_id, parent, isinactive, in_scope, filter_value in rows
    }


def owners_changed_since(source: Source, ctx: RunContext) -> list[str]:
    """Staged customers (in scope or ancestors) whose parent, scope or filter box NetSuite changed since the
    connection's last successful run: only these can give an invoice below them another owner (R5, R9).
    A row staged before the marker was kept (NULL) counts by its last change of any kind."""
    rows = as_reads(source).rows(
        "SELECT netsuite_id FROM netsuite_staged_customers "
        "WHERE connection_id = :connection AND changed_run_id > :since "
        "AND (owner_changed_run_id IS NULL OR owner_changed_run_id > :since)",
        {"connection": ctx.connection.id, "since": ctx.since_run_id},
    )
    return [netsuite_id for (netsuite_id,) in rows]


LINK_TABLES = {
    RecordKind.CUSTOMER: ("netsuite_customer_links", "resolve_customer_id"),
    RecordKind.INVOICE: ("netsuite_invoice_links", "resolve_invoice_id"),
}


def links(
    source: Source, connection: Connection, kind: RecordKind, netsuite_ids: Iterable[str]
) -> dict[str, Link]:
    ids = list(netsuite_ids)
    if not ids:
        return {}
    table, column = LINK_TABLES[kind]
    rows = as_reads(source).rows(
        f"SELECT netsuite_id, {column}, synced_values FROM {table} "
        "WHERE merchant_id = :merchant AND netsuite_account_id = :account AND netsuite_id IN :ids",
        {"merchant": connection.merchant_id, "account": connection.netsuite_account_id, "ids": ids},
    )
    return {netsuite_id: Link(resolve_id, document(synced)) for netsuite_id, resolve_id, synced in rows}


def customer_owners(source: Source, connection: Connection) -> dict[str, str]:
    """NetSuite customer id → the Resolve customer it became, for the merchant and account."""
    rows = as_reads(source).rows(
        "SELECT netsuite_id, resolve_customer_id FROM netsuite_customer_links "
        "WHERE merchant_id = :merchant AND netsuite_account_id = :account",
        {"merchant": connection.merchant_id, "account": connection.netsuite_account_id},
    )
    return dict(rows)  # type: ignore[arg-type]


def resolve_rows(source: Source, kind: RecordKind, resolve_ids: Iterable[str]) -> dict[str, ResolveRow]:
    ids = list(resolve_ids)
    if not ids:
        return {}
    reads = as_reads(source)
    if kind == RecordKind.CUSTOMER:
        rows = reads.rows("SELECT id, version FROM resolve_customers WHERE id IN :ids", {"ids": ids})
        return {resolve_id: ResolveRow(version) for resolve_id, version in rows}
    rows = reads.rows("SELECT id, version, advanced FROM resolve_invoices WHERE id IN :ids", {"ids": ids})
    return {resolve_id: ResolveRow(version, bool(advanced)) for resolve_id, version, advanced in rows}
