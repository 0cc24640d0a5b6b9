"""netsuite request leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 20:30:16.274467
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "netsuite_request_leases",
        sa.Column("netsuite_account_id", sa.String(length=40), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("netsuite_account_id", "slot", name=op.f("pk_netsuite_request_leases")),
    )


def downgrade() -> None:

    op.drop_table("netsuite_request_leases")
