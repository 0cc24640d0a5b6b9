"""The Resolve store's tables.

`resolve_customers` and `resolve_invoices` mirror the public Customer and Invoice objects of Resolve's V5
Merchant API (field names as in ../shared/reference/resolve-api.md), so a later writer for the Partners API
maps one to one. Everything else is the sync's own bookkeeping: connections, links to NetSuite, cursors,
runs, per-record outcomes, duplicate resolutions and financed-invoice drift.

Integrity is enforced by the database, not by the code that writes it: every Resolve row carries its
merchant id, and every reference to a Resolve row is a composite foreign key on (id, merchant_id), so a
link, invoice or drift row can never point at another merchant's record.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MERCHANT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
RESOLVE_SOURCE_NETSUITE = "NETSUITE"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as naive UTC and read back as aware UTC.

    SQLite has no time zone type; storing naive UTC everywhere keeps both engines comparing the same values.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


Money = Numeric(18, 4)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class MerchantConnection(Base):
    """One merchant's link to one NetSuite subsidiary: the unit a Dagster partition syncs."""

    __tablename__ = "merchant_connections"
    __table_args__ = (
        UniqueConstraint("partition_key"),
        CheckConstraint("auth_kind IN ('tba', 'oauth2_m2m', 'oauth2_code')", name="auth_kind"),
        CheckConstraint("length(merchant_id) BETWEEN 1 AND 63", name="merchant_id_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(63))
    partition_key: Mapped[str] = mapped_column(String(100))
    netsuite_account_id: Mapped[str] = mapped_column(String(40))
    base_url: Mapped[str | None] = mapped_column(String(300))
    auth_kind: Mapped[str] = mapped_column(String(20))
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    subsidiary_id: Mapped[int | None] = mapped_column(BigInteger)
    filter_field_id: Mapped[str | None] = mapped_column(String(100))
    account_timezone: Mapped[str] = mapped_column(String(64), default="America/Los_Angeles")
    concurrency_limit: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    bookkeeping_account_ids: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The user's authorization ("Allow access"): flagged when only a new one helps (refresh token expired
    # or revoked); when it runs out; and the compare-and-set that makes token refresh single-flight.
    needs_reconnect: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reconnect_reason: Mapped[str | None] = mapped_column(String(300))
    authorization_expires_at: Mapped[dt.datetime | None] = mapped_column()
    credentials_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    token_refresh_holder: Mapped[str | None] = mapped_column(String(200))
    token_refresh_claimed_until: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        # Never the credentials, not even encrypted: a repr ends up in logs and exceptions.
        return (
            f"MerchantConnection(merchant_id={self.merchant_id!r}, partition_key={self.partition_key!r}, "
            f"netsuite_account_id={self.netsuite_account_id!r}, auth_kind={self.auth_kind!r}, "
            f"credentials=<hidden>)"
        )


class ResolveCustomer(Base):
    """A Resolve `Customer` (V5 Merchant API field names)."""

    __tablename__ = "resolve_customers"
    __table_args__ = (
        # The target of every composite (id, merchant_id) foreign key.
        UniqueConstraint("id", "merchant_id"),
        Index(None, "merchant_id", "netsuite_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(63))
    business_name: Mapped[str] = mapped_column(String(400))
    business_trade_name: Mapped[str | None] = mapped_column(String(400))
    email: Mapped[str | None] = mapped_column(String(320))
    business_ap_email: Mapped[str | None] = mapped_column(String(320))
    business_phone: Mapped[str | None] = mapped_column(String(64))
    business_address: Mapped[str | None] = mapped_column(String(400))
    business_city: Mapped[str | None] = mapped_column(String(200))
    business_state: Mapped[str | None] = mapped_column(String(100))
    business_zip: Mapped[str | None] = mapped_column(String(40))
    business_country: Mapped[str | None] = mapped_column(String(2))
    default_terms: Mapped[str | None] = mapped_column(String(20))
    amount_balance: Mapped[Decimal | None] = mapped_column(Money)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    netsuite_id: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class ResolveInvoice(Base):
    """A Resolve `Invoice` (V5 Merchant API field names)."""

    __tablename__ = "resolve_invoices"
    __table_args__ = (
        UniqueConstraint("id", "merchant_id"),
        ForeignKeyConstraint(
            ["customer_id", "merchant_id"], ["resolve_customers.id", "resolve_customers.merchant_id"]
        ),
        Index(None, "merchant_id", "netsuite_id"),
        Index(None, "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(63))
    customer_id: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(100))
    order_number: Mapped[str | None] = mapped_column(String(100))
    po_number: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str | None] = mapped_column(String(3))
    terms: Mapped[str | None] = mapped_column(String(20))
    amount_due: Mapped[Decimal] = mapped_column(Money)
    amount_balance: Mapped[Decimal] = mapped_column(Money)
    amount_paid: Mapped[Decimal | None] = mapped_column(Money)
    invoiced_at: Mapped[dt.date | None] = mapped_column(Date)
    due_at: Mapped[dt.date | None] = mapped_column(Date)
    fully_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    advanced: Mapped[bool] = mapped_column(Boolean, default=False)
    advanced_at: Mapped[dt.datetime | None] = mapped_column()
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    netsuite_id: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class NetSuiteCustomerLink(Base):
    """Which Resolve customer a NetSuite customer became, and the field values the sync last wrote.

    Per merchant, not per connection: a customer shared by two connected subsidiaries is one Resolve customer.
    """

    __tablename__ = "netsuite_customer_links"
    __table_args__ = (
        UniqueConstraint("merchant_id", "netsuite_account_id", "netsuite_id"),
        UniqueConstraint("resolve_customer_id"),
        ForeignKeyConstraint(
            ["resolve_customer_id", "merchant_id"], ["resolve_customers.id", "resolve_customers.merchant_id"]
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(63))
    netsuite_account_id: Mapped[str] = mapped_column(String(40))
    netsuite_id: Mapped[str] = mapped_column(String(40))
    resolve_customer_id: Mapped[str] = mapped_column(String(40))
    synced_values: Mapped[dict[str, Any]] = mapped_column(JSON)
    synced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NetSuiteInvoiceLink(Base):
    """Which Resolve invoice a NetSuite invoice became, and the field values the sync last wrote."""

    __tablename__ = "netsuite_invoice_links"
    __table_args__ = (
        UniqueConstraint("merchant_id", "netsuite_account_id", "netsuite_id"),
        UniqueConstraint("resolve_invoice_id"),
        ForeignKeyConstraint(
            ["resolve_invoice_id", "merchant_id"], ["resolve_invoices.id", "resolve_invoices.merchant_id"]
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(63))
    netsuite_account_id: Mapped[str] = mapped_column(String(40))
    netsuite_id: Mapped[str] = mapped_column(String(40))
    resolve_invoice_id: Mapped[str] = mapped_column(String(40))
    synced_values: Mapped[dict[str, Any]] = mapped_column(JSON)
    synced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncCursor(Base):
    """Where the next incremental read of one stream starts (SPEC R17): moved only after writes commit."""

    __tablename__ = "sync_cursors"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_connections.id", ondelete="CASCADE"), primary_key=True
    )
    stream: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_modified: Mapped[dt.datetime | None] = mapped_column()
    last_id: Mapped[int | None] = mapped_column(BigInteger)
    filter_field_id: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncRun(Base):
    """One sync of one connection, with its counts (SPEC §4)."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'failed', 'cancelled')", name="status"),
        Index(None, "connection_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("merchant_connections.id", ondelete="CASCADE"))
    merchant_id: Mapped[str] = mapped_column(String(63))
    dagster_run_id: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[dt.date] = mapped_column(Date)
    filter_field_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    subsidiary_id: Mapped[int | None] = mapped_column(BigInteger)
    # New cursor positions found by extract; moved into sync_cursors only when apply commits (R17).
    pending_cursors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The connection's last succeeded run when this one started (R15: later staged changes are re-planned).
    since_run_id: Mapped[int | None] = mapped_column(Integer)


class SyncRecordOutcome(Base):
    """What one run did to one NetSuite record, and why: the per-record ledger `resolve-sync status` shows."""

    __tablename__ = "sync_record_outcomes"
    __table_args__ = (
        CheckConstraint("record_kind IN ('customer', 'invoice')", name="record_kind"),
        Index(None, "merchant_id", "record_kind", "netsuite_id"),
        Index(None, "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"))
    merchant_id: Mapped[str] = mapped_column(String(63))
    record_kind: Mapped[str] = mapped_column(String(20))
    netsuite_id: Mapped[str] = mapped_column(String(40))
    resolve_id: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[list[Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DuplicateResolution(Base):
    """An operator's answer to a suspected duplicate pair (SPEC R12): the two are one, or distinct.

    Each side is a record key such as `netsuite:1234` or `resolve:cus_…`; the pair is stored in sorted
    order so (a, b) and (b, a) are the same resolution.
    """

    __tablename__ = "duplicate_resolutions"
    __table_args__ = (
        UniqueConstraint("merchant_id", "left_key", "right_key"),
        CheckConstraint("resolution IN ('linked', 'distinct')", name="resolution"),
        CheckConstraint("left_key < right_key", name="sorted_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(63))
    left_key: Mapped[str] = mapped_column(String(100))
    right_key: Mapped[str] = mapped_column(String(100))
    resolution: Mapped[str] = mapped_column(String(20))
    resolved_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InvoiceDrift(Base):
    """A NetSuite change to a financed invoice that the sync refused to apply (SPEC R8), kept for review."""

    __tablename__ = "invoice_drift"
    __table_args__ = (
        ForeignKeyConstraint(
            ["resolve_invoice_id", "merchant_id"], ["resolve_invoices.id", "resolve_invoices.merchant_id"]
        ),
        Index(None, "merchant_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(63))
    resolve_invoice_id: Mapped[str] = mapped_column(String(40))
    netsuite_id: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    detected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column()


class NetSuiteRequestLease(Base):
    """One in-flight request slot on a NetSuite account, held by one process (SPEC R13).

    Runs are separate processes; this table is what they share so that together they never exceed the
    account's concurrency limit. A lease expires, so a killed process cannot hold a slot forever.
    """

    __tablename__ = "netsuite_request_leases"

    netsuite_account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime] = mapped_column()


class SyncRunLease(Base):
    """The one live run of a connection (SPEC R13): which run holds it, which process, and its heartbeat."""

    __tablename__ = "sync_run_leases"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_connections.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[dt.datetime] = mapped_column()
    heartbeat_at: Mapped[dt.datetime] = mapped_column()


class StagedCustomer(Base):
    """A NetSuite customer as last read, values as NetSuite sent them (strings), for the plan step.

    `in_scope` is true for customers the subsidiary scan returned; ancestors fetched only to resolve a
    sub-customer's top-level parent (R5) are staged with `in_scope` false. `changed_run_id` is the run
    that last saw a different value, so a run plans only what changed; `owner_changed_run_id` the run that
    last saw a different parent, scope or filter box, the facts the owner of an invoice below depends on
    (NULL: staged before it was kept, so treated as changed).
    """

    __tablename__ = "netsuite_staged_customers"
    __table_args__ = (Index(None, "connection_id", "changed_run_id"), Index(None, "connection_id", "parent"))

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_connections.id", ondelete="CASCADE"), primary_key=True
    )
    netsuite_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    entityid: Mapped[str | None] = mapped_column(Text)
    companyname: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    isinactive: Mapped[str | None] = mapped_column(Text)
    parent: Mapped[str | None] = mapped_column(Text)
    filter_value: Mapped[str | None] = mapped_column(Text)
    lastmodified: Mapped[str | None] = mapped_column(Text)
    in_scope: Mapped[bool] = mapped_column(Boolean)
    changed_run_id: Mapped[int] = mapped_column(Integer)
    owner_changed_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    extracted_run_id: Mapped[int] = mapped_column(Integer)


class StagedInvoice(Base):
    """A NetSuite invoice (main line) as last read, values as NetSuite sent them."""

    __tablename__ = "netsuite_staged_invoices"
    __table_args__ = (Index(None, "connection_id", "changed_run_id"), Index(None, "connection_id", "entity"))

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_connections.id", ondelete="CASCADE"), primary_key=True
    )
    netsuite_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tranid: Mapped[str | None] = mapped_column(Text)
    trandate: Mapped[str | None] = mapped_column(Text)
    duedate: Mapped[str | None] = mapped_column(Text)
    entity: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str | None] = mapped_column(Text)
    foreigntotal: Mapped[str | None] = mapped_column(Text)
    foreignamountunpaid: Mapped[str | None] = mapped_column(Text)
    memo: Mapped[str | None] = mapped_column(Text)
    lastmodified: Mapped[str | None] = mapped_column(Text)
    changed_run_id: Mapped[int] = mapped_column(Integer)
    extracted_run_id: Mapped[int] = mapped_column(Integer)
    # True while the last plan kept it out (held back or invalid): it is planned again every run until it
    # is written, also when linked (its owner may have become syncable without a change of its own).
    kept_out: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


__all__ = [
    "StagedCustomer",
    "StagedInvoice",
    "NetSuiteRequestLease",
    "Base",
    "DuplicateResolution",
    "InvoiceDrift",
    "MerchantConnection",
    "NetSuiteCustomerLink",
    "NetSuiteInvoiceLink",
    "ResolveCustomer",
    "ResolveInvoice",
    "SyncCursor",
    "SyncRecordOutcome",
    "SyncRun",
    "SyncRunLease",
]
