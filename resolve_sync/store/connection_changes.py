"""Small changes to a connection (enable, filter field, subsidiary, bookkeeping accounts) and removing it.

Each is one transaction of a few statements, so it goes through `store.reads` like the reading commands: an
operator's `connections enable` answers in a blink instead of loading SQLAlchemy's ORM for one UPDATE.
Adding a connection (credentials encrypted, often verified with NetSuite) stays in `store.connections`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

import orjson

from resolve_sync import validation
from resolve_sync.connection_keys import make_key, validate_subsidiary_id
from resolve_sync.store.connection_records import (
    COLUMNS,
    Connection,
    ConnectionSettingsError,
    connection_from_row,
    get_connection,
)
from resolve_sync.store.reads import Writes, stored_now, transaction

if TYPE_CHECKING:
    from sqlalchemy import Engine

Target = Union["Engine", Writes]

CHANGEABLE = (
    "filter_field_id",
    "subsidiary_id",
    "enabled",
    "bookkeeping_account_ids",
    "concurrency_limit",
    "base_url",
    "account_timezone",
)
CHECKED_CHANGES = {"base_url": validation.base_url, "account_timezone": validation.time_zone}


def update_connection(target: Target, partition_key: str, **changes: Any) -> Connection:
    """Change settings of a connection; changing the subsidiary changes its partition key."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ConnectionSettingsError(f"cannot change {', '.join(sorted(unknown))}")
    for name, check in CHECKED_CHANGES.items():
        if changes.get(name) is not None:
            changes[name] = check(changes[name])
    with transaction(target) as db:
        current = _locked(db, partition_key)
        values = dict(changes)
        if "subsidiary_id" in values:
            values["subsidiary_id"] = validate_subsidiary_id(values["subsidiary_id"])
            new_key = make_key(current.merchant_id, values["subsidiary_id"])
            if new_key != current.partition_key and db.rows(
                "SELECT id FROM merchant_connections WHERE partition_key = :key", {"key": new_key}
            ):
                raise ConnectionSettingsError(f"Connection {new_key} already exists.")
            values["partition_key"] = new_key
        if "bookkeeping_account_ids" in values:
            values["bookkeeping_account_ids"] = orjson.dumps(values["bookkeeping_account_ids"] or {}).decode()
        if values:
            values["updated_at"] = stored_now()
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            db.execute(
                f"UPDATE merchant_connections SET {assignments} WHERE id = :id", {**values, "id": current.id}
            )
        key = values.get("partition_key", partition_key)
        (row,) = db.rows(
            f"SELECT {COLUMNS} FROM merchant_connections WHERE partition_key = :key", {"key": key}
        )
    return connection_from_row(row)


def remove_connection(target: Target, partition_key: str) -> None:
    """Forget a connection (its runs, cursors and staging go with it, by the schema's cascades); Resolve
    records stay."""
    with transaction(target) as db:
        current = _locked(db, partition_key)
        db.execute("DELETE FROM merchant_connections WHERE id = :id", {"id": current.id})


def _locked(db: Writes, partition_key: str) -> Connection:
    try:
        return get_connection(db, partition_key)
    except ConnectionSettingsError:
        raise ConnectionSettingsError(
            f"No connection {partition_key!r}; `resolve-sync connections list` shows them."
        ) from None
