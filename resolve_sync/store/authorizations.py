"""A connection's authorization: what a user's "Allow access" gave, kept encrypted; the single-flight claim
that lets one run at a time refresh an OAuth 2.0 access token; and `needs_reconnect`, set when only a new
"Allow access" can help (the refresh token expired or was revoked).

Refreshing is a compare-and-set on `credentials_version`, never a lock held across the HTTP call: a run
claims the refresh for the version it read (the claim lapses after `CLAIM_SECONDS`, so a run that dies
mid-refresh frees it), refreshes, and stores the new token with the version bumped. Runs that lose the
claim wait for the new version and use the token it holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, or_, select, update

from resolve_sync.errors import ConfigurationError
from resolve_sync.store.connections import Connection, ConnectionSettingsError
from resolve_sync.store.models import MerchantConnection, utcnow
from resolve_sync.store.secrets import SecretBox

CLAIM_SECONDS = 30.0


class ReconnectNeeded(ConfigurationError):
    """The connection's NetSuite authorization expired or was revoked; a user must allow access again."""


def connect_command(connection: Connection) -> str:
    command = f"resolve-sync connections connect {connection.merchant_id} --account {connection.netsuite_account_id}"
    if connection.base_url:
        command += f" --base-url {connection.base_url}"
    return command


def reconnect_message(connection: Connection, reason: str | None = None) -> str:
    """One line: which merchant, why, and the command that fixes it."""
    why = reason or connection.reconnect_reason or "its NetSuite authorization expired or was revoked"
    return (
        f"Merchant {connection.merchant_id!r} ({connection.partition_key}) must reconnect NetSuite account "
        f"{connection.netsuite_account_id}: {why}. Run `{connect_command(connection)}` and press "
        '"Allow access".'
    )


@dataclasses.dataclass(frozen=True)
class StoredCredentials:
    version: int
    needs_reconnect: bool
    reconnect_reason: str | None
    encrypted: str = dataclasses.field(repr=False)


def read_credentials(engine: Engine, connection_id: int) -> StoredCredentials:
    with engine.connect() as db:
        row = db.execute(
            select(
                MerchantConnection.credentials_version,
                MerchantConnection.needs_reconnect,
                MerchantConnection.reconnect_reason,
                MerchantConnection.credentials_encrypted,
            ).where(MerchantConnection.id == connection_id)
        ).first()
    if row is None:
        raise ConnectionSettingsError(f"Connection {connection_id} was removed while a run was using it.")
    return StoredCredentials(int(row[0]), bool(row[1]), row[2], row[3])


def claim_token_refresh(engine: Engine, connection_id: int, version: int, holder: str) -> bool:
    """Take the right to refresh the token of credentials `version`; False if another run holds it or the
    credentials changed since they were read."""
    now = utcnow()
    with engine.begin() as db:
        claimed = db.execute(
            update(MerchantConnection)
            .where(
                MerchantConnection.id == connection_id,
                MerchantConnection.credentials_version == version,
                MerchantConnection.needs_reconnect.is_(False),
                or_(
                    MerchantConnection.token_refresh_claimed_until.is_(None),
                    MerchantConnection.token_refresh_claimed_until < now,
                    MerchantConnection.token_refresh_holder == holder,
                ),
            )
            .values(
                token_refresh_holder=holder,
                token_refresh_claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
            )
        )
    return claimed.rowcount == 1


def save_refreshed_credentials(
    engine: Engine,
    box: SecretBox,
    connection_id: int,
    *,
    version: int,
    holder: str,
    credentials: Mapping[str, Any],
) -> bool:
    """Store the refreshed credentials (encrypted) if this holder's claim on `version` still stands."""
    with engine.begin() as db:
        saved = db.execute(
            update(MerchantConnection)
            .where(
                MerchantConnection.id == connection_id,
                MerchantConnection.credentials_version == version,
                MerchantConnection.token_refresh_holder == holder,
            )
            .values(
                credentials_encrypted=box.encrypt(credentials),
                credentials_version=version + 1,
                token_refresh_holder=None,
                token_refresh_claimed_until=None,
            )
        )
    return saved.rowcount == 1


def release_token_refresh(engine: Engine, connection_id: int, holder: str) -> None:
    with engine.begin() as db:
        db.execute(
            update(MerchantConnection)
            .where(MerchantConnection.id == connection_id, MerchantConnection.token_refresh_holder == holder)
            .values(token_refresh_holder=None, token_refresh_claimed_until=None)
        )


def mark_needs_reconnect(engine: Engine, connection_id: int, reason: str) -> None:
    """Only a user's new "Allow access" helps now; runs fail at once with `reconnect_message`."""
    with engine.begin() as db:
        db.execute(
            update(MerchantConnection)
            .where(MerchantConnection.id == connection_id)
            .values(
                needs_reconnect=True,
                reconnect_reason=reason[:300],
                token_refresh_holder=None,
                token_refresh_claimed_until=None,
            )
        )


def store_authorization(
    engine: Engine,
    box: SecretBox,
    connection_id: int,
    *,
    auth_kind: str,
    credentials: Mapping[str, Any],
    authorization_expires_at: dt.datetime | None,
) -> None:
    """A new "Allow access" for an existing connection: new credentials, flag cleared, everything else
    (subsidiary, filter, cursors, links, runs) kept."""
    with engine.begin() as db:
        db.execute(
            update(MerchantConnection)
            .where(MerchantConnection.id == connection_id)
            .values(
                auth_kind=auth_kind,
                credentials_encrypted=box.encrypt(credentials),
                credentials_version=MerchantConnection.credentials_version + 1,
                needs_reconnect=False,
                reconnect_reason=None,
                authorization_expires_at=authorization_expires_at,
                token_refresh_holder=None,
                token_refresh_claimed_until=None,
                updated_at=utcnow(),
            )
        )
