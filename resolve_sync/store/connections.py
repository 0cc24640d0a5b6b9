"""Merchant connections: add, read and list them, with credentials encrypted at rest."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from resolve_sync import validation
from resolve_sync.connection_keys import make_key, validate_merchant_id, validate_subsidiary_id
from resolve_sync.errors import ConfigurationError
from resolve_sync.kinds import AuthKind
from resolve_sync.names import REQUIRED_CREDENTIALS
from resolve_sync.store.models import MerchantConnection
from resolve_sync.store.secrets import Credentials, SecretBox, resolve_references

AUTH_KINDS = tuple(AuthKind)


class ConnectionSettingsError(ConfigurationError, ValueError):
    """A connection that cannot be added or found; the message names the merchant and the fix."""


@dataclasses.dataclass(frozen=True)
class Connection:
    """A connection as the rest of the code sees it: plain data, credentials still encrypted."""

    id: int
    merchant_id: str
    partition_key: str
    netsuite_account_id: str
    base_url: str | None
    auth_kind: str
    subsidiary_id: int | None
    filter_field_id: str | None
    account_timezone: str
    concurrency_limit: int | None
    enabled: bool
    bookkeeping_account_ids: dict[str, Any]
    credentials_encrypted: str = dataclasses.field(repr=False)
    # The user's authorization ("Allow access"): when set, only `resolve-sync connections connect` helps.
    needs_reconnect: bool = False
    reconnect_reason: str | None = None
    authorization_expires_at: dt.datetime | None = None  # when the OAuth 2.0 refresh token runs out

    def credentials(self, box: SecretBox) -> Credentials:
        """Decrypt and resolve environment references; call only where a client is built."""
        owner = f"merchant {self.merchant_id!r} (connection {self.partition_key})"
        return resolve_references(box.decrypt(self.credentials_encrypted, owner=owner), owner=owner)


def _to_connection(row: MerchantConnection) -> Connection:
    return Connection(
        id=row.id,
        merchant_id=row.merchant_id,
        partition_key=row.partition_key,
        netsuite_account_id=row.netsuite_account_id,
        base_url=row.base_url,
        auth_kind=row.auth_kind,
        subsidiary_id=row.subsidiary_id,
        filter_field_id=row.filter_field_id,
        account_timezone=row.account_timezone,
        concurrency_limit=row.concurrency_limit,
        enabled=row.enabled,
        bookkeeping_account_ids=dict(row.bookkeeping_account_ids or {}),
        credentials_encrypted=row.credentials_encrypted,
        needs_reconnect=bool(row.needs_reconnect),
        reconnect_reason=row.reconnect_reason,
        authorization_expires_at=row.authorization_expires_at,
    )


def add_connection(
    engine: Engine,
    box: SecretBox,
    *,
    merchant_id: str,
    netsuite_account_id: str,
    auth_kind: str,
    credentials: Mapping[str, Any],
    subsidiary_id: int | str | None = None,
    base_url: str | None = None,
    filter_field_id: str | None = None,
    account_timezone: str = "America/Los_Angeles",
    concurrency_limit: int | None = None,
    enabled: bool = True,
) -> Connection:
    """Every value is checked (resolve_sync.validation) before anything is stored."""
    validate_merchant_id(merchant_id)
    subsidiary = validate_subsidiary_id(subsidiary_id)
    netsuite_account_id = validation.netsuite_account_id(netsuite_account_id)
    base_url = validation.base_url(base_url) if base_url is not None else None
    account_timezone = validation.time_zone(account_timezone)
    if auth_kind not in AUTH_KINDS:
        raise ConnectionSettingsError(
            f"Merchant {merchant_id!r}: auth kind {auth_kind!r} is not one of {AUTH_KINDS}."
        )
    missing = [name for name in REQUIRED_CREDENTIALS[AuthKind(auth_kind)] if not credentials.get(name)]
    if missing:
        raise ConnectionSettingsError(
            f"Merchant {merchant_id!r}: {auth_kind} credentials need {', '.join(missing)}; "
            "give them at the prompt, in files (--…-file) or as environment variables (--…-env)."
        )
    key = make_key(merchant_id, subsidiary)
    with Session(engine) as session, session.begin():
        if session.scalar(select(MerchantConnection.id).where(MerchantConnection.partition_key == key)):
            raise ConnectionSettingsError(
                f"Connection {key} already exists; remove it first or change it in place."
            )
        row = MerchantConnection(
            merchant_id=merchant_id,
            partition_key=key,
            netsuite_account_id=netsuite_account_id,
            base_url=base_url,
            auth_kind=auth_kind,
            credentials_encrypted=box.encrypt(credentials),
            subsidiary_id=subsidiary,
            filter_field_id=filter_field_id,
            account_timezone=account_timezone,
            concurrency_limit=concurrency_limit,
            enabled=enabled,
            bookkeeping_account_ids={},
        )
        session.add(row)
        session.flush()
        return _to_connection(row)


def get_connection(engine: Engine, partition_key: str) -> Connection:
    with Session(engine) as session:
        row = session.scalar(
            select(MerchantConnection).where(MerchantConnection.partition_key == partition_key)
        )
        if row is None:
            raise ConnectionSettingsError(
                f"No connection {partition_key!r}; `resolve-sync connections list` shows the existing ones."
            )
        return _to_connection(row)


def list_connections(engine: Engine, *, enabled_only: bool = False) -> list[Connection]:
    query = select(MerchantConnection).order_by(MerchantConnection.partition_key)
    if enabled_only:
        query = query.where(MerchantConnection.enabled.is_(True))
    with Session(engine) as session:
        return [_to_connection(row) for row in session.scalars(query)]


def rotate_credentials(engine: Engine, box: SecretBox) -> int:
    """Re-encrypt every connection's credentials with the newest key; returns how many were rotated."""
    with Session(engine) as session, session.begin():
        rows = list(session.scalars(select(MerchantConnection)))
        for row in rows:
            owner = f"merchant {row.merchant_id!r} (connection {row.partition_key})"
            row.credentials_encrypted = box.rotate(row.credentials_encrypted, owner=owner)
        return len(rows)


def update_connection(engine: Engine, partition_key: str, **changes: Any) -> Connection:
    """Change settings of a connection; changing the subsidiary changes its partition key."""
    allowed = {
        "filter_field_id",
        "subsidiary_id",
        "enabled",
        "bookkeeping_account_ids",
        "concurrency_limit",
        "base_url",
        "account_timezone",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ConnectionSettingsError(f"cannot change {', '.join(sorted(unknown))}")
    with Session(engine) as session, session.begin():
        row = session.scalar(
            select(MerchantConnection).where(MerchantConnection.partition_key == partition_key)
        )
        if row is None:
            raise ConnectionSettingsError(
                f"No connection {partition_key!r}; `resolve-sync connections list` shows them."
            )
        for name, check in CHECKED_CHANGES.items():
            if changes.get(name) is not None:
                changes[name] = check(changes[name])
        if "subsidiary_id" in changes:
            changes["subsidiary_id"] = validate_subsidiary_id(changes["subsidiary_id"])
            new_key = make_key(row.merchant_id, changes["subsidiary_id"])
            if new_key != row.partition_key and session.scalar(
                select(MerchantConnection.id).where(MerchantConnection.partition_key == new_key)
            ):
                raise ConnectionSettingsError(f"Connection {new_key} already exists.")
            row.partition_key = new_key
        for name, value in changes.items():
            setattr(row, name, value)
        session.flush()
        return _to_connection(row)


CHECKED_CHANGES = {"base_url": validation.base_url, "account_timezone": validation.time_zone}


def remove_connection(engine: Engine, partition_key: str) -> None:
    """Forget a connection (its runs, cursors and staging go with it); Resolve records stay."""
    with Session(engine) as session, session.begin():
        row = session.scalar(
            select(MerchantConnection).where(MerchantConnection.partition_key == partition_key)
        )
        if row is None:
            raise ConnectionSettingsError(
                f"No connection {partition_key!r}; `resolve-sync connections list` shows them."
            )
        session.delete(row)


def pick_connection(engine: Engine, merchant_id: str, subsidiary_id: int | str | None = None) -> Connection:
    """The merchant's connection: the one named by subsidiary, or the only one it has."""
    validate_merchant_id(merchant_id)
    matches = [c for c in list_connections(engine) if c.merchant_id == merchant_id]
    if subsidiary_id is not None:
        wanted = validate_subsidiary_id(subsidiary_id)
        matches = [c for c in matches if c.subsidiary_id == wanted]
    if not matches:
        raise ConnectionSettingsError(
            f"Merchant {merchant_id!r} has no such connection; "
            "`resolve-sync connections list` shows the existing ones."
        )
    if len(matches) > 1:
        raise ConnectionSettingsError(
            f"Merchant {merchant_id!r} has {len(matches)} connections "
            f"({', '.join(c.partition_key for c in matches)}); pass --subsidiary."
        )
    return matches[0]
