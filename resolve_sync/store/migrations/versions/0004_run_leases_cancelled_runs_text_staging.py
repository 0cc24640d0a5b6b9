"""run leases, cancelled runs, staging columns as text

One live run per connection held in the store (R13); runs can end `cancelled` (SIGINT/SIGTERM); staged
NetSuite values are unbounded text, so any value NetSuite sends stages and the per-record guard judges it
instead of the database refusing the whole batch.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STAGED_TEXT = {
    "netsuite_staged_customers": {
        "isinactive": 5,
        "parent": 40,
        "filter_value": 5,
        "lastmodified": 40,
    },
    "netsuite_staged_invoices": {
        "trandate": 40,
        "duedate": 40,
        "entity": 40,
        "status": 20,
        "currency": 20,
        "foreigntotal": 60,
        "foreignamountunpaid": 60,
        "lastmodified": 40,
    },
}


def upgrade() -> None:
    op.create_table(
        "sync_run_leases",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["merchant_connections.id"],
            name=op.f("fk_sync_run_leases_connection_id_merchant_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_sync_run_leases_run_id_sync_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_sync_run_leases")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("since_run_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_sync_runs_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_sync_runs_status"), "status IN ('running', 'succeeded', 'failed', 'cancelled')"
        )
    for table, columns in STAGED_TEXT.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns.items():
                batch_op.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text())


def downgrade() -> None:
    for table, columns in STAGED_TEXT.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns.items():
                batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length))
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_sync_runs_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_sync_runs_status"), "status IN ('running', 'succeeded', 'failed')"
        )
        batch_op.drop_column("since_run_id")
    op.drop_table("sync_run_leases")
