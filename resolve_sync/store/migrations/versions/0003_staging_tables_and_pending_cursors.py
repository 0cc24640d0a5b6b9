"""staging tables and pending cursors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 20:36:44.944264
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "netsuite_staged_customers",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=False),
        sa.Column("entityid", sa.Text(), nullable=True),
        sa.Column("companyname", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("isinactive", sa.String(length=5), nullable=True),
        sa.Column("parent", sa.String(length=40), nullable=True),
        sa.Column("filter_value", sa.String(length=5), nullable=True),
        sa.Column("lastmodified", sa.String(length=40), nullable=True),
        sa.Column("in_scope", sa.Boolean(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("extracted_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["merchant_connections.id"],
            name=op.f("fk_netsuite_staged_customers_connection_id_merchant_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "netsuite_id", name=op.f("pk_netsuite_staged_customers")),
    )
    with op.batch_alter_table("netsuite_staged_customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_netsuite_staged_customers_connection_id_changed_run_id"),
            ["connection_id", "changed_run_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_netsuite_staged_customers_connection_id_parent"),
            ["connection_id", "parent"],
            unique=False,
        )

    op.create_table(
        "netsuite_staged_invoices",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("netsuite_id", sa.String(length=40), nullable=False),
        sa.Column("tranid", sa.Text(), nullable=True),
        sa.Column("trandate", sa.String(length=40), nullable=True),
        sa.Column("duedate", sa.String(length=40), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=20), nullable=True),
        sa.Column("foreigntotal", sa.String(length=60), nullable=True),
        sa.Column("foreignamountunpaid", sa.String(length=60), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("lastmodified", sa.String(length=40), nullable=True),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("extracted_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["merchant_connections.id"],
            name=op.f("fk_netsuite_staged_invoices_connection_id_merchant_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "netsuite_id", name=op.f("pk_netsuite_staged_invoices")),
    )
    with op.batch_alter_table("netsuite_staged_invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_netsuite_staged_invoices_connection_id_changed_run_id"),
            ["connection_id", "changed_run_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_netsuite_staged_invoices_connection_id_entity"),
            ["connection_id", "entity"],
            unique=False,
        )

    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subsidiary_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("pending_cursors", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:

    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("pending_cursors")
        batch_op.drop_column("subsidiary_id")

    with op.batch_alter_table("netsuite_staged_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_netsuite_staged_invoices_connection_id_entity"))
        batch_op.drop_index(batch_op.f("ix_netsuite_staged_invoices_connection_id_changed_run_id"))

    op.drop_table("netsuite_staged_invoices")
    with op.batch_alter_table("netsuite_staged_customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_netsuite_staged_customers_connection_id_parent"))
        batch_op.drop_index(batch_op.f("ix_netsuite_staged_customers_connection_id_changed_run_id"))

    op.drop_table("netsuite_staged_customers")
