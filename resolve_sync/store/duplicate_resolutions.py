"""Operators' answers to suspected duplicates (R12): link a NetSuite customer to an existing Resolve
customer, or mark two records distinct.

A few statements in one transaction through `store.reads` (the driver for the CLI, an engine or a
connection for the sync and tests), so `resolve-sync duplicates distinct` answers in a blink. Reading them
(`list_resolutions`) lives in `store.resolution_records`; the name is re-exported here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from resolve_sync import validation
from resolve_sync.errors import ConfigurationError
from resolve_sync.kinds import Resolution
from resolve_sync.store.reads import Writes, stored_now, transaction
from resolve_sync.store.resolution_records import ResolutionRecord, list_resolutions

if TYPE_CHECKING:
    from sqlalchemy import Engine

Target = Union["Engine", Writes]

__all__ = [
    "InvalidResolution",
    "ResolutionRecord",
    "forget_resolution",
    "list_resolutions",
    "record_resolution",
]


class InvalidResolution(ConfigurationError, ValueError):
    """A resolution that cannot be recorded; the message says how to write it."""


def record_resolution(
    target: Target, merchant_id: str, first: str, second: str, resolution: str, resolved_by: str = "cli"
) -> tuple[str, str]:
    """Store an operator's answer for a pair, after checking it can mean what it says: both keys well
    formed, a known merchant, and for `linked` a Resolve customer of that merchant that no other NetSuite
    customer is (or is about to be) linked to. A bad link would otherwise fail every later sync."""
    left, right = _pair(merchant_id, first, second)
    if resolution == Resolution.LINKED and not (
        left.startswith("netsuite:") and right.startswith("resolve:")
    ):
        raise InvalidResolution(
            "`link` joins a NetSuite customer to an existing Resolve customer "
            "(netsuite:<id> resolve:<id>); two NetSuite customers can only be marked distinct."
        )
    with transaction(target) as db:
        _known_merchant(db, merchant_id)
        if resolution == Resolution.LINKED:
            _check_link(db, merchant_id, left, right)
        keys = {"merchant": merchant_id, "left": left, "right": right}
        db.execute(
            "DELETE FROM duplicate_resolutions WHERE merchant_id = :merchant AND left_key = :left "
            "AND right_key = :right",
            keys,
        )
        db.execute(
            "INSERT INTO duplicate_resolutions (merchant_id, left_key, right_key, resolution, resolved_by, "
            "created_at) VALUES (:merchant, :left, :right, :resolution, :by, :created)",
            {
                **keys,
                "resolution": str(resolution),
                "by": resolved_by,
                "created": stored_now(),
            },
        )
    return left, right


def forget_resolution(
    target: Target, merchant_id: str, first: str, second: str, *, resolution: str | None = None
) -> str:
    """Remove the operator's answer for a pair (of the given kind, if one is given); returns what it was.
    The next run's duplicate check judges the pair again."""
    left, right = _pair(merchant_id, first, second)
    with transaction(target) as db:
        _known_merchant(db, merchant_id)
        found = db.rows(
            "SELECT id, resolution FROM duplicate_resolutions WHERE merchant_id = :merchant "
            "AND left_key = :left AND right_key = :right",
            {"merchant": merchant_id, "left": left, "right": right},
        )
        if not found or (resolution is not None and found[0][1] != resolution):
            kind = f"{resolution} " if resolution else ""
            raise InvalidResolution(
                f"Merchant {merchant_id!r} has no {kind}resolution for {left} and {right}; "
                f"`resolve-sync duplicates list {merchant_id}` shows the recorded ones."
            )
        db.execute("DELETE FROM duplicate_resolutions WHERE id = :id", {"id": found[0][0]})
    return str(found[0][1])


def _pair(merchant_id: str, first: str, second: str) -> tuple[str, str]:
    validation.merchant_id(merchant_id)
    try:
        keys = [validation.record_key(first), validation.record_key(second)]
    except validation.InvalidValue as error:
        raise InvalidResolution(error.message) from None
    if keys[0] == keys[1]:
        raise InvalidResolution("A record cannot be a duplicate of itself.")
    left, right = sorted(keys)
    return left, right


def _known_merchant(db: Writes, merchant_id: str) -> None:
    if db.rows(
        "SELECT id FROM merchant_connections WHERE merchant_id = :merchant LIMIT 1", {"merchant": merchant_id}
    ):
        return
    raise InvalidResolution(
        f"Merchant {merchant_id!r} has no connection; `resolve-sync connections list` shows the merchants."
    )


def _check_link(db: Writes, merchant_id: str, netsuite_key: str, resolve_key: str) -> None:
    netsuite_id, resolve_id = netsuite_key.split(":", 1)[1], resolve_key.split(":", 1)[1]
    customer = db.rows(
        "SELECT id, netsuite_id FROM resolve_customers WHERE id = :resolve AND merchant_id = :merchant",
        {"resolve": resolve_id, "merchant": merchant_id},
    )
    if not customer:  # another merchant's customer is "not found" too: nothing leaks across
        raise InvalidResolution(
            f"Merchant {merchant_id!r} has no Resolve customer {resolve_id!r}; link a customer of this "
            "merchant (`resolve-sync duplicates list` names them)."
        )
    linked = db.rows(
        "SELECT netsuite_id FROM netsuite_customer_links WHERE merchant_id = :merchant "
        "AND resolve_customer_id = :resolve",
        {"merchant": merchant_id, "resolve": resolve_id},
    )
    other = linked[0][0] if linked else customer[0][1]
    if other is not None and str(other) != netsuite_id:
        raise InvalidResolution(
            f"Resolve customer {resolve_id!r} of merchant {merchant_id!r} is already linked to NetSuite "
            f"customer {other}; a Resolve customer stands for one NetSuite customer."
        )
    already = db.rows(
        "SELECT resolve_customer_id FROM netsuite_customer_links WHERE merchant_id = :merchant "
        "AND netsuite_id = :netsuite",
        {"merchant": merchant_id, "netsuite": netsuite_id},
    )
    if already and already[0][0] != resolve_id:
        raise InvalidResolution(
            f"NetSuite customer {netsuite_id} is already synced as Resolve customer {already[0][0]!r} of "
            f"merchant {merchant_id!r}; it cannot become {resolve_id!r} too."
        )
    claimed = db.rows(
        "SELECT left_key FROM duplicate_resolutions WHERE merchant_id = :merchant AND resolution = :linked "
        "AND right_key = :resolve_key AND left_key <> :netsuite_key",
        {
            "merchant": merchant_id,
            "linked": str(Resolution.LINKED),
            "resolve_key": resolve_key,
            "netsuite_key": netsuite_key,
        },
    )
    if claimed:
        raise InvalidResolution(
            f"Resolve customer {resolve_id!r} is already linked to {claimed[0][0]} by an earlier resolution; "
            f"undo that first with `resolve-sync duplicates unlink {merchant_id} {claimed[0][0]} {resolve_key}`."
        )
