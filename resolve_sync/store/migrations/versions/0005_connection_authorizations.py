"""connection authorizations: oauth2_code connections, needs_reconnect, single-flight token refresh

Connections made by a user's "Allow access" (`resolve-sync connections connect`) can hold OAuth 2.0
authorization-code tokens (`auth_kind = 'oauth2_code'`). When the refresh token expires or is revoked the
connection is flagged `needs_reconnect` with the reason, and `authorization_expires_at` (when the refresh
token stops working; not a secret) lets a check warn before it does. Refreshing the access token is
single-flight across runs: a refresh claims the connection with a compare-and-set on
`credentials_version` (`token_refresh_holder`, `token_refresh_claimed_until`) and bumps the version when it
stores the new, encrypted token.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merchant_connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_reconnect", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("reconnect_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("authorization_expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("credentials_version", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("token_refresh_holder", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("token_refresh_claimed_until", sa.DateTime(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_merchant_connections_auth_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_merchant_connections_auth_kind"),
            "auth_kind IN ('tba', 'oauth2_m2m', 'oauth2_code')",
        )


def downgrade() -> None:
    with op.batch_alter_table("merchant_connections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_merchant_connections_auth_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_merchant_connections_auth_kind"), "auth_kind IN ('tba', 'oauth2_m2m')"
        )
        batch_op.drop_column("token_refresh_claimed_until")
        batch_op.drop_column("token_refresh_holder")
        batch_op.drop_column("credentials_version")
        batch_op.drop_column("authorization_expires_at")
        batch_op.drop_column("reconnect_reason")
        batch_op.drop_column("needs_reconnect")
