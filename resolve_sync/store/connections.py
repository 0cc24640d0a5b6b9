"""Merchant connections: add them with credentials encrypted at rest, and rotate those credentials.

Plain SQL in one transaction over `store.reads` (the driver for the CLI, an engine or a connection for the
rest). Reading connections lives in `store.connection_records`, small changes in `store.connection_changes`;
the names are re-exported here for the callers that use several.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union

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
from resolve_sync.store.reads import Writes, stored_now, transaction
from resolve_sync.store.secrets import SecretBox

if TYPE_CHECKING:
    from sqlalchemy import Engine

Target = Union["Engine", Writes]
AUTH_KINDS = tuple(AuthKind)


def add_connection(
    target: Target,
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
    with transaction(target) as db:
        if db.rows("SELECT id FROM merchant_connections WHERE partition_key = :key", {"key": key}):
            raise ConnectionSettingsError(
                f"Connection {key} already exists; remove it first or change it in place."
            )
        db.execute(
            "INSERT INTO merchant_connections (merchant_id, partition_key, netsuite_account_id, base_url, "
            "auth_kind, credentials_encrypted, subsidiary_id, filter_field_id, account_timezone, "
            "concurrency_limit, enabled, bookkeeping_account_ids, created_at, updated_at) VALUES (:merchant_id, "
            ":partition_key, :netsuite_account_id, :base_url, :auth_kind, :credentials_encrypted, :subsidiary_id, "
            ":filter_field_id, :account_timezone, :concurrency_limit, :enabled, :bookkeeping_account_ids, :now, "
            ":now)",
            {
                "merchant_id": merchant_id,
                "partition_key": key,
                "netsuite_account_id": netsuite_account_id,
                "base_url": base_url,
                "auth_kind": str(auth_kind),
                "credentials_encrypted": box.encrypt(credentials),
                "subsidiary_id": subsidiary,
                "filter_field_id": filter_field_id,
                "account_timezone": account_timezone,
                "concurrency_limit": concurrency_limit,
                "enabled": enabled,
                "bookkeeping_account_ids": "{}",
                "now": stored_now(),
            },
        )
        return get_connection(db, key)


def rotate_credentials(target: Target, box: SecretBox) -> int:
    """Re-encrypt every connection's credentials with the newest key; returns how many were rotated."""
    with transaction(target) as db:
        rows = db.rows(
            "SELECT id, merchant_id, partition_key, credentials_encrypted FROM merchant_connections"
        )
        for connection_id, merchant_id, partition_key, encrypted in rows:
            owner = f"merchant {merchant_id!r} (connection {partition_key})"
            db.execute(
                "UPDATE merchant_connections SET credentials_encrypted = :credentials, updated_at = :now "
                "WHERE id = :id",
                {"credentials": box.rotate(encrypted, owner=owner), "id": connection_id, "now": stored_now()},
            )
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
