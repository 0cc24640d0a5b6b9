"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 20:09:45.411681
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "duplicate_resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("left_key", sa.String(length=100), nullable=False),
        sa.Column("right_key", sa.String(length=100), nullable=False),
        sa.Column("resolution", sa.String(length=20), nullable=False),
        sa.Column("resolved_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "resolution IN ('linked', 'distinct')", name=op.f("ck_duplicate_resolutions_resolution")
        ),
        sa.CheckConstraint("left_key < right_key", name=op.f("ck_duplicate_resolutions_sorted_pair")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_resolutions")),
        sa.UniqueConstraint(
            "merchant_id",
            "left_key",
            "right_key",
            name=op.f("uq_duplicate_resolutions_merchant_id_left_key_right_key"),
        ),
    )
    op.create_table(
        "merchant_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("partition_key", sa.String(length=100), nullable=False),
        sa.Column("netsuite_account_id", sa.String(length=40), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=True),
        sa.Column("auth_kind", sa.String(length=20), nullable=False),
        sa.Column("credentials_encrypted", sa.Text(), nullable=False),
        sa.Column("subsidiary_id", sa.BigInteger(), nullable=True),
        sa.Column("filter_field_id", sa.String(length=100), nullable=True),
        sa.Column("account_timezone", sa.String(length=64), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("bookkeeping_account_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "auth_kind IN ('tba', 'oauth2_m2m')", name=op.f("ck_merchant_connections_auth_kind")
        ),
        sa.CheckConstraint(
            "length(merchant_id) BETWEEN 1 AND 63", name=op.f("ck_merchant_connections_merchant_id_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_connections")),
        sa.UniqueConstraint("partition_key", name=op.f("uq_merchant_connections_partition_key")),
    )
    op.create_table(
        "resolve_customers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("business_name", sa.String(length=400), nullable=False),
        sa.Column("business_trade_name", sa.String(length=400), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("business_ap_email", sa.String(length=320), nullable=True),
        sa.Column("business_phone", sa.String(length=64), nullable=True),
        sa.Column("business_address", sa.String(length=400), nullable=True),
        sa.Column("business_city", sa.String(length=200), nullable=True),
        sa.Column("business_state", sa.String(length=100), nullable=True),
        sa.Column("business_zip", sa.String(length=40), nullable=True),
        sa.Column("business_country", sa.String(length=2), nullable=True),
        sa.Column("default_terms", sa.String(length=20), nullable=True),
        sa.Column("amount_balance", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolve_customers")),
        sa.UniqueConstraint("id", "merchant_id", name=op.f("uq_resolve_customers_id_merchant_id")),
    )
    with op.batch_alter_table("resolve_customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resolve_customers_merchant_id_netsuite_id"),
            ["merchant_id", "netsuite_id"],
            unique=False,
        )

    op.create_table(
        "netsuite_customer_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("netsuite_account_id", sa.String(length=40), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=False),
        sa.Column("resolve_customer_id", sa.String(length=40), nullable=False),
        sa.Column("synced_values", sa.JSON(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resolve_customer_id", "merchant_id"],
            ["resolve_customers.id", "resolve_customers.merchant_id"],
            name=op.f("fk_netsuite_customer_links_resolve_customer_id_merchant_id_resolve_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_netsuite_customer_links")),
        sa.UniqueConstraint(
            "merchant_id",
            "netsuite_account_id",
            "netsuite_id",
            name=op.f("uq_netsuite_customer_links_merchant_id_netsuite_account_id_netsuite_id"),
        ),
        sa.UniqueConstraint(
            "resolve_customer_id", name=op.f("uq_netsuite_customer_links_resolve_customer_id")
        ),
    )
    op.create_table(
        "resolve_invoices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("order_number", sa.String(length=100), nullable=True),
        sa.Column("po_number", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("terms", sa.String(length=20), nullable=True),
        sa.Column("amount_due", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("amount_balance", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("amount_paid", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("invoiced_at", sa.Date(), nullable=True),
        sa.Column("due_at", sa.Date(), nullable=True),
        sa.Column("fully_paid", sa.Boolean(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("advanced", sa.Boolean(), nullable=False),
        sa.Column("advanced_at", sa.DateTime(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id", "merchant_id"],
            ["resolve_customers.id", "resolve_customers.merchant_id"],
            name=op.f("fk_resolve_invoices_customer_id_merchant_id_resolve_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolve_invoices")),
        sa.UniqueConstraint("id", "merchant_id", name=op.f("uq_resolve_invoices_id_merchant_id")),
    )
    with op.batch_alter_table("resolve_invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resolve_invoices_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_resolve_invoices_merchant_id_netsuite_id"),
            ["merchant_id", "netsuite_id"],
            unique=False,
        )

    op.create_table(
        "sync_cursors",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=20), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=True),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("filter_field_id", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["merchant_connections.id"],
            name=op.f("fk_sync_cursors_connection_id_merchant_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "stream", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("dagster_run_id", sa.String(length=64), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("filter_field_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f("ck_sync_runs_status")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["merchant_connections.id"],
            name=op.f("fk_sync_runs_connection_id_merchant_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_connection_id_started_at"), ["connection_id", "started_at"], unique=False
        )

    op.create_table(
        "invoice_drift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("resolve_invoice_id", sa.String(length=40), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resolve_invoice_id", "merchant_id"],
            ["resolve_invoices.id", "resolve_invoices.merchant_id"],
            name=op.f("fk_invoice_drift_resolve_invoice_id_merchant_id_resolve_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_invoice_drift_run_id_sync_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_drift")),
    )
    with op.batch_alter_table("invoice_drift", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_drift_merchant_id_reviewed_at"),
            ["merchant_id", "reviewed_at"],
            unique=False,
        )

    op.create_table(
        "netsuite_invoice_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("netsuite_account_id", sa.String(length=40), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=False),
        sa.Column("resolve_invoice_id", sa.String(length=40), nullable=False),
        sa.Column("synced_values", sa.JSON(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resolve_invoice_id", "merchant_id"],
            ["resolve_invoices.id", "resolve_invoices.merchant_id"],
            name=op.f("fk_netsuite_invoice_links_resolve_invoice_id_merchant_id_resolve_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_netsuite_invoice_links")),
        sa.UniqueConstraint(
            "merchant_id",
            "netsuite_account_id",
            "netsuite_id",
            name=op.f("uq_netsuite_invoice_links_merchant_id_netsuite_account_id_netsuite_id"),
        ),
        sa.UniqueConstraint("resolve_invoice_id", name=op.f("uq_netsuite_invoice_links_resolve_invoice_id")),
    )
    op.create_table(
        "sync_record_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.String(length=63), nullable=False),
        sa.Column("record_kind", sa.String(length=20), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=False),
        sa.Column("resolve_id", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "record_kind IN ('customer', 'invoice')", name=op.f("ck_sync_record_outcomes_record_kind")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sync_record_outcomes_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_record_outcomes")),
    )
    with op.batch_alter_table("sync_record_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_record_outcomes_merchant_id_record_kind_netsuite_id"),
            ["merchant_id", "record_kind", "netsuite_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_sync_record_outcomes_run_id"), ["run_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("sync_record_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_record_outcomes_run_id"))
        batch_op.drop_index(batch_op.f("ix_sync_record_outcomes_merchant_id_record_kind_netsuite_id"))

    op.drop_table("sync_record_outcomes")
    op.drop_table("netsuite_invoice_links")
    with op.batch_alter_table("invoice_drift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_drift_merchant_id_reviewed_at"))

    op.drop_table("invoice_drift")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_connection_id_started_at"))

    op.drop_table("sync_runs")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("resolve_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resolve_invoices_merchant_id_netsuite_id"))
        batch_op.drop_index(batch_op.f("ix_resolve_invoices_customer_id"))

    op.drop_table("resolve_invoices")
    op.drop_table("netsuite_customer_links")
    with op.batch_alter_table("resolve_customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resolve_customers_merchant_id_netsuite_id"))

    op.drop_table("resolve_customers")
    op.drop_table("merchant_connections")
    op.drop_table("duplicate_resolutions")
