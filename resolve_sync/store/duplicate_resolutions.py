"""Operators' answers to suspected duplicates (R12): link a NetSuite customer to an existing Resolve
customer, or mark two records distinct.

Reading them (`list_resolutions`) lives in `store.resolution_records`, which needs no SQLAlchemy; the name is
re-exported here for the callers that also write."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, insert, select

from resolve_sync import validation
from resolve_sync.errors import ConfigurationError
from resolve_sync.kinds import Resolution
from resolve_sync.store.models import (
    DuplicateResolution,
    MerchantConnection,
    NetSuiteCustomerLink,
    ResolveCustomer,
    utcnow,
)
from resolve_sync.store.resolution_records import ResolutionRecord, list_resolutions

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
    engine: Engine, merchant_id: str, first: str, second: str, resolution: str, resolved_by: str = "cli"
) -> tuple[str, str]:
    """Store an operator's answer for a pair, after checking it can mean what it says: both keys well
    formed, a known merchant, and for `linked` a Resolve customer of that merchant that no other NetSuite
    customer is (or is about to be) linked to. A bad link would otherwise fail every later sync."""
    left, right = _pair(merchant_id, first, second)
    if resolution == Resolution.LINKED:
        if not (left.startswith("netsuite:") and right.startswith("resolve:")):
            raise InvalidResolution(
                "`link` joins a NetSuite customer to an existing Resolve customer "
                "(netsuite:<id> resolve:<id>); two NetSuite customers can only be marked distinct."
            )
        _check_link(engine, merchant_id, left, right)
    with engine.begin() as db:
        _known_merchant(db, merchant_id)
        db.execute(
            delete(DuplicateResolution).where(
                DuplicateResolution.merchant_id == merchant_id,
                DuplicateResolution.left_key == left,
                DuplicateResolution.right_key == right,
            )
        )
        db.execute(
            insert(DuplicateResolution).values(
                merchant_id=merchant_id,
                left_key=left,
                right_key=right,
                resolution=resolution,
                resolved_by=resolved_by,
                created_at=utcnow(),
            )
        )
    return left, right


def forget_resolution(
    engine: Engine, merchant_id: str, first: str, second: str, *, resolution: str | None = None
) -> str:
    """Remove the operator's answer for a pair (of the given kind, if one is given); returns what it was.
    The next run's duplicate check judges the pair again."""
    left, right = _pair(merchant_id, first, second)
    with engine.begin() as db:
        _known_merchant(db, merchant_id)
        query = select(DuplicateResolution.id, DuplicateResolution.resolution).where(
            DuplicateResolution.merchant_id == merchant_id,
            DuplicateResolution.left_key == left,
            DuplicateResolution.right_key == right,
        )
        found = db.execute(query).first()
        if found is None or (resolution is not None and found.resolution != resolution):
            kind = f"{resolution} " if resolution else ""
            raise InvalidResolution(
                f"Merchant {merchant_id!r} has no {kind}resolution for {left} and {right}; "
                f"`resolve-sync duplicates list {merchant_id}` shows the recorded ones."
            )
        db.execute(delete(DuplicateResolution).where(DuplicateResolution.id == found.id))
    return str(found.resolution)


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


def _known_merchant(db: Any, merchant_id: str) -> None:
    if db.scalar(select(MerchantConnection.id).where(MerchantConnection.merchant_id == merchant_id).limit(1)):
        return
    raise InvalidResolution(
        f"Merchant {merchant_id!r} has no connection; `resolve-sync connections list` shows the merchants."
    )


def _check_link(engine: Engine, merchant_id: str, netsuite_key: str, resolve_key: str) -> None:
    netsuite_id, resolve_id = netsuite_key.split(":", 1)[1], resolve_key.split(":", 1)[1]
    with engine.connect() as db:
        _known_merchant(db, merchant_id)
        customer = db.execute(
            select(ResolveCustomer.id, ResolveCustomer.netsuite_id).where(
                ResolveCustomer.id == resolve_id, ResolveCustomer.merchant_id == merchant_id
            )
        ).first()
        if customer is None:  # another merchant's customer is "not found" too: nothing leaks across
            raise InvalidResolution(
                f"Merchant {merchant_id!r} has no Resolve customer {resolve_id!r}; link a customer of this "
                "merchant (`resolve-sync duplicates list` names them)."
            )
        linked_to = db.scalar(
            select(NetSuiteCustomerLink.netsuite_id).where(
                NetSuiteCustomerLink.merchant_id == merchant_id,
                NetSuiteCustomerLink.resolve_customer_id == resolve_id,
            )
        )
        other = linked_to if linked_to is not None else customer.netsuite_id
        if other is not None and str(other) != netsuite_id:
            raise InvalidResolution(
                f"Resolve customer {resolve_id!r} of merchant {merchant_id!r} is already linked to NetSuite "
                f"customer {other}; a Resolve customer stands for one NetSuite customer."
            )
        already = db.scalar(
            select(NetSuiteCustomerLink.resolve_customer_id).where(
                NetSuiteCustomerLink.merchant_id == merchant_id,
                NetSuiteCustomerLink.netsuite_id == netsuite_id,
            )
        )
        if already is not None and already != resolve_id:
            raise InvalidResolution(
                f"NetSuite customer {netsuite_id} is already synced as Resolve customer {already!r} of "
                f"merchant {merchant_id!r}; it cannot become {resolve_id!r} too."
            )
        claimed = db.scalar(
            select(DuplicateResolution.left_key).where(
                DuplicateResolution.merchant_id == merchant_id,
                DuplicateResolution.resolution == Resolution.LINKED,
                DuplicateResolution.right_key == resolve_key,
                DuplicateResolution.left_key != netsuite_key,
            )
        )
        if claimed is not None:
            raise InvalidResolution(
                f"Resolve customer {resolve_id!r} is already linked to {claimed} by an earlier resolution; "
                f"undo that first with `resolve-sync duplicates unlink {merchant_id} {claimed} {resolve_key}`."
            )
