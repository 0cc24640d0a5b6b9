"""Reading what the rules need from the store: customer facts, links with their last-synced values, and the
Resolve rows' versions and financing. Plain queries returning the plain records of `records.py`."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection as DB

from resolve_sync.kinds import RecordKind
from resolve_sync.store.connections import Connection
from resolve_sync.store.models import (
    NetSuiteCustomerLink,
    NetSuiteInvoiceLink,
    ResolveCustomer,
    ResolveInvoice,
    StagedCustomer,
)
from resolve_sync.sync.ledger import RunContext
from resolve_sync.sync.records import CustomerFacts, Link, ResolveRow
from resolve_sync.sync.transform import flag


def customer_facts(engine: Engine, connection: Connection) -> dict[str, CustomerFacts]:
    """Every staged customer of the connection (in scope, and ancestors fetched for R5)."""
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


def customers_changed_since(engine: Engine, ctx: RunContext) -> list[str]:
    """Staged customers (in scope or ancestors) NetSuite changed since the connection's last successful run."""
    with engine.connect() as db:
        return list(
            db.scalars(
                select(StagedCustomer.netsuite_id).where(
                    StagedCustomer.connection_id == ctx.connection.id,
                    StagedCustomer.changed_run_id > ctx.since_run_id,
                )
            )
        )


def links(db: DB, connection: Connection, kind: RecordKind, netsuite_ids: Iterable[str]) -> dict[str, Link]:
    table, column = (
        (NetSuiteCustomerLink, NetSuiteCustomerLink.resolve_customer_id)
        if kind == RecordKind.CUSTOMER
        else (NetSuiteInvoiceLink, NetSuiteInvoiceLink.resolve_invoice_id)
    )
    rows = db.execute(
        select(table.netsuite_id, column, table.synced_values).where(
            table.merchant_id == connection.merchant_id,
            table.netsuite_account_id == connection.netsuite_account_id,
            table.netsuite_id.in_(list(netsuite_ids)),
        )
    )
    return {r[0]: Link(r[1], r[2]) for r in rows}


def customer_owners(engine: Engine, connection: Connection) -> dict[str, str]:
    """NetSuite customer id → the Resolve customer it became, for the merchant and account."""
    with engine.connect() as db:
        return dict(
            db.execute(
                select(NetSuiteCustomerLink.netsuite_id, NetSuiteCustomerLink.resolve_customer_id).where(
                    NetSuiteCustomerLink.merchant_id == connection.merchant_id,
                    NetSuiteCustomerLink.netsuite_account_id == connection.netsuite_account_id,
                )
            ).all()
        )


def resolve_rows(db: DB, kind: RecordKind, resolve_ids: Iterable[str]) -> dict[str, ResolveRow]:
    if kind == RecordKind.CUSTOMER:
        query = select(ResolveCustomer.id, ResolveCustomer.version).where(
            ResolveCustomer.id.in_(list(resolve_ids))
        )
        return {r.id: ResolveRow(r.version) for r in db.execute(query)}
    query = select(ResolveInvoice.id, ResolveInvoice.version, ResolveInvoice.advanced).where(
        ResolveInvoice.id.in_(list(resolve_ids))
    )
    return {r.id: ResolveRow(r.version, r.advanced) for r in db.execute(query)}
