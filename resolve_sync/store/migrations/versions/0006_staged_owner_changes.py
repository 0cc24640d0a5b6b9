"""staged customers remember when what decides their invoices' owner last changed; staged invoices whether
their last plan kept them out

`owner_changed_run_id` is the run that last saw a staged customer's parent, scope or filter box change (R5,
R9), the only facts an invoice's owner depends on. A run then re-plans the invoices below customers whose
owner facts changed, not those of every changed customer: a mass rename touches no invoice. Rows staged
before this revision have none (NULL) and count as changed once, as before.

`kept_out` on a staged invoice is true while its last plan held it back or found it invalid: such an invoice
is planned again every run until it is written, also when linked (say its new top-level customer was
invalid and is fixed: nothing about the invoice or its owner facts changed, but it can now be written).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 20:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("netsuite_staged_customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_changed_run_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("netsuite_staged_invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kept_out", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("netsuite_staged_invoices", schema=None) as batch_op:
        batch_op.drop_column("kept_out")
    with op.batch_alter_table("netsuite_staged_customers", schema=None) as batch_op:
        batch_op.drop_column("owner_changed_run_id")
