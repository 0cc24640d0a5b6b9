"""Merchant connections: add, change and remove them, with credentials encrypted at rest.

Reading them (`Connection`, `list_connections`, `pick_connection`) lives in `store.connection_records`,
which needs no SQLAlchemy; the names are re-exported here for the callers that also write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from resolve_sync import validation
from resolve_sync.connection_keys import make_key, validate_merchant_id, validate_subsidiary_id
from resolve_sync.kinds import AuthKind
from resolve_sync.names import REQUIRED_CREDENTIALS
from resolve_sync.store.connection_changes import remove_connection, update_connection
from resolve_sync.store.connection_records import (
    Connection,
    ConnectionSettingsError,
    get_connection,
    list_connections,
    pick_connection,
)
from resolve_sync.store.models import MerchantConnection
from resolve_sync.store.secrets import SecretBox

AUTH_KINDS = tuple(AuthKind)


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


def rotate_credentials(engine: Engine, box: SecretBox) -> int:
    """Re-encrypt every connection's credentials with the newest key; returns how many were rotated."""
    with Session(engine) as session, session.begin():
        rows = list(session.scalars(select(MerchantConnection)))
        for row in rows:
            owner = f"merchant {row.merchant_id!r} (connection {row.partition_key})"
            row.credentials_encrypted = box.rotate(row.credentials_encrypted, owner=owner)
        return len(rows)


__all__ = [
    "Connection",
    "ConnectionSettingsError",
    "add_connection",
    "get_connection",
    "list_connections",
    "pick_connection",
    "remove_connection",
    "rotate_credentials",
    "update_connection",
]
