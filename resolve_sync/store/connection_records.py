"""Merchant connections as the rest of the code reads them: plain data, credentials still encrypted.

Reading needs no SQLAlchemy (see `store.reads`), so `connections list|show` and `status` answer at once;
adding and changing connections lives in `store.connections`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any, Union

from resolve_sync.connection_keys import validate_merchant_id, validate_subsidiary_id
from resolve_sync.errors import ConfigurationError
from resolve_sync.store.reads import Reads, as_reads, document, utc

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from resolve_sync.store.secrets import Credentials, SecretBox

Source = Union["Engine", Reads]


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
        from resolve_sync.store.secrets import resolve_references

        owner = f"merchant {self.merchant_id!r} (connection {self.partition_key})"
        return resolve_references(box.decrypt(self.credentials_encrypted, owner=owner), owner=owner)


COLUMNS = (
    "id, merchant_id, partition_key, netsuite_account_id, base_url, auth_kind, subsidiary_id, filter_field_id, "
    "account_timezone, concurrency_limit, enabled, bookkeeping_account_ids, credentials_encrypted, "
    "needs_reconnect, reconnect_reason, authorization_expires_at"
)


def connection_from_row(row: tuple[Any, ...]) -> Connection:
    (*plain, enabled, bookkeeping, encrypted, needs_reconnect, reason, expires) = row
    return Connection(
        *plain,
        enabled=bool(enabled),
        bookkeeping_account_ids=dict(document(bookkeeping) or {}),
        credentials_encrypted=encrypted,
        needs_reconnect=bool(needs_reconnect),
        reconnect_reason=reason,
        authorization_expires_at=utc(expires),
    )


def list_connections(source: Source, *, enabled_only: bool = False) -> list[Connection]:
    where = " WHERE enabled = :enabled" if enabled_only else ""
    rows = as_reads(source).rows(
        f"SELECT {COLUMNS} FROM merchant_connections{where} ORDER BY partition_key",
        {"enabled": True} if enabled_only else {},
    )
    return [connection_from_row(row) for row in rows]


def get_connection(source: Source, partition_key: str) -> Connection:
    rows = as_reads(source).rows(
        f"SELECT {COLUMNS} FROM merchant_connections WHERE partition_key = :key", {"key": partition_key}
    )
    if not rows:
        raise ConnectionSettingsError(
            f"No connection {partition_key!r}; `resolve-sync connections list` shows the existing ones."
        )
    return connection_from_row(rows[0])


def pick_connection(source: Source, merchant_id: str, subsidiary_id: int | str | None = None) -> Connection:
    """The merchant's connection: the one named by subsidiary, or the only one it has."""
    validate_merchant_id(merchant_id)
    matches = [c for c in list_connections(source) if c.merchant_id == merchant_id]
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
