"""A small NetSuite account with every case the rules talk about, and helpers to sync it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from resolve_sync.store.connections import Connection, add_connection, get_connection
from resolve_sync.store.models import ResolveCustomer, ResolveInvoice
from resolve_sync.store.secrets import SecretBox
from resolve_sync.sync.steps import RunReport, run_sync
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA, bulk_account, fixture_dict, tba_client

AS_OF = dt.date(2026, 11, 26)
FILTER = "custentity_sync_to_resolve"


def customer_record(
    cid: int,
    name: str,
    email: str | None,
    *,
    parent: int | None = None,
    subsidiary: int = 2,
    checked: bool = True,
    inactive: bool = False,
    vip: bool = False,
) -> dict[str, Any]:
    return {
        "id": cid,
        "entityid": f"C{cid}",
        "companyname": name,
        "email": email,
        "parent": parent,
        "subsidiary": subsidiary,
        "isinactive": inactive,
        "lastmodifieddate": "2026-06-01T10:00:00",
        "custom": {FILTER: checked, "custentity_vip": vip},
    }


def invoice_record(
    iid: int,
    entity: int,
    trandate: str,
    *,
    subsidiary: int = 2,
    total: float = 1000,
    unpaid: float | None = None,
    status: str = "A",
) -> dict[str, Any]:
    due = (dt.date.fromisoformat(trandate) + dt.timedelta(days=30)).isoformat()
    return {
        "id": iid,
        "tranid": f"INV{iid}",
        "trandate": trandate,
        "duedate": due,
        "entity": entity,
        "subsidiary": subsidiary,
        "status": status,
        "currency": "USD",
        "foreigntotal": total,
        "foreignamountunpaid": total if unpaid is None else unpaid,
        "lastmodifieddate": "2026-06-01T10:00:00",
    }


def sync_fixture(**overrides: Any) -> dict[str, Any]:
    fields = fixture_dict()["custom_fields"] + [
        {"scriptid": "custentity_vip", "label": "VIP", "type": "checkbox", "applies_to": ["customer"]}
    ]
    raw = fixture_dict(
        custom_fields=fields,
        customers=[
            customer_record(10, "Acme Inc", "ap@acme.test", vip=True),
            customer_record(11, "Acme West", "west@acme.test", parent=10),
            customer_record(12, "Acme West Coast", "coast@acme.test", parent=11),
            customer_record(13, "Acme West Coast Retail", "retail@acme.test", parent=12),
            customer_record(20, "Globex LLC", "ap@globex.test", inactive=True),
            customer_record(30, "Initech", "ap@initech.test", checked=False, vip=True),
            customer_record(31, "Initech Labs", "labs@initech.test", parent=30),
            customer_record(40, "Maple Ltd", "ap@maple.test", subsidiary=3),
            customer_record(50, "Hooli", "ap@hooli.test", subsidiary=3),
        ],
        customer_subsidiaries=[{"entity": 40, "subsidiary": 2, "isprimarysub": False}],
        invoices=[
            invoice_record(100, 10, "2026-02-01", total=1500, unpaid=1234.56),
            invoice_record(101, 13, "2026-03-01"),
            invoice_record(102, 20, "2026-04-01"),
            invoice_record(103, 31, "2026-05-01"),
            invoice_record(104, 30, "2026-05-02"),
            invoice_record(105, 10, "2025-01-01"),
            invoice_record(106, 40, "2026-06-01"),
            invoice_record(107, 50, "2026-06-02", subsidiary=3),
        ],
    )
    raw.update(overrides)
    return raw


def connect(
    store: Engine,
    server: Any,
    *,
    merchant: str = "acme",
    subsidiary: int | None = 2,
    filter_field: str | None = None,
    concurrency_limit: int | None = None,
) -> Connection:
    """The one way tests add a TBA connection to the sandbox through the store."""
    return add_connection(
        store,
        SecretBox.from_environment(),
        merchant_id=merchant,
        netsuite_account_id=ACCOUNT_ID,
        auth_kind="tba",
        credentials=TBA,
        subsidiary_id=subsidiary,
        base_url=server.base_url,
        filter_field_id=filter_field,
        account_timezone=server.fixture.timezone,
        concurrency_limit=concurrency_limit,
    )


def sync(
    store: Engine, server: Any, connection: Connection, *, as_of: dt.date = AS_OF, full_refresh: bool = False
) -> RunReport:
    fresh = get_connection(store, connection.partition_key)  # settings may have changed since
    with tba_client(server) as client:
        return run_sync(client, store, fresh, as_of=as_of, full_refresh=full_refresh)


def set_filter(store: Engine, connection: Connection, field_id: str | None) -> None:
    with store.begin() as db:
        db.execute(
            text("UPDATE merchant_connections SET filter_field_id = :f WHERE id = :i"),
            {"f": field_id, "i": connection.id},
        )


def orm_rows(store: Engine, statement: Any) -> list[Any]:
    with Session(store, expire_on_commit=False) as session:
        return list(session.scalars(statement).all())


def customers(store: Engine, merchant: str = "acme") -> dict[str, Any]:
    """NetSuite id → Resolve customer row, as a user would look it up."""
    return {
        r.netsuite_id: r
        for r in orm_rows(store, select(ResolveCustomer).where(ResolveCustomer.merchant_id == merchant))
    }


def invoices(store: Engine, merchant: str = "acme") -> dict[str, Any]:
    return {
        r.netsuite_id: r
        for r in orm_rows(store, select(ResolveInvoice).where(ResolveInvoice.merchant_id == merchant))
    }


def snapshot(store: Engine) -> dict[str, list[tuple]]:
    """Everything Resolve-side, ids excepted, to compare two stores' end states."""
    queries = {
        "customers": "SELECT netsuite_id, business_name, email, archived FROM resolve_customers ORDER BY netsuite_id",
        "invoices": "SELECT i.netsuite_id, c.netsuite_id, i.number, i.amount_due, i.amount_balance, i.archived "
        "FROM resolve_invoices i JOIN resolve_customers c ON c.id = i.customer_id ORDER BY i.netsuite_id",
        "customer_links": "SELECT netsuite_id FROM netsuite_customer_links ORDER BY netsuite_id",
        "invoice_links": "SELECT netsuite_id FROM netsuite_invoice_links ORDER BY netsuite_id",
    }
    with store.connect() as db:
        return {
            name: [tuple(str(v) for v in row) for row in db.execute(text(q))] for name, q in queries.items()
        }


def medium_account(customers: int = 3_000, invoices: int = 6_000, **overrides: Any) -> dict[str, Any]:
    """Enough records for several pages per scan, with sub-customers every tenth customer."""
    return bulk_account(customers, invoices, sub_customer_every=10, **overrides)
