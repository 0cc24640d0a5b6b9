"""Operators' answers to suspected duplicates (R12): link a NetSuite customer to an existing Resolve
customer, or mark two records distinct."""

from __future__ import annotations

import re

from sqlalchemy import Engine, delete, insert, select

from resolve_sync.errors import ConfigurationError
from resolve_sync.store.models import DuplicateResolution, utcnow

RECORD_KEY_RE = re.compile(r"^(netsuite:\d+|resolve:[A-Za-z0-9_-]{1,40})$")


class InvalidResolution(ConfigurationError, ValueError):
    """A resolution that cannot be recorded; the message says how to write it."""


def record_resolution(
    engine: Engine, merchant_id: str, first: str, second: str, resolution: str, resolved_by: str = "cli"
) -> tuple[str, str]:
    for key in (first, second):
        if not RECORD_KEY_RE.fullmatch(key):
            raise InvalidResolution(
                f"{key!r} is not a record key: use netsuite:<internal id> or resolve:<customer id>"
            )
    if first == second:
        raise InvalidResolution("a record cannot be a duplicate of itself")
    left, right = sorted((first, second))
    if resolution == "linked" and not (left.startswith("netsuite:") and right.startswith("resolve:")):
        raise InvalidResolution(
            "`link` joins a NetSuite customer to an existing Resolve customer "
            "(netsuite:<id> resolve:<id>); two NetSuite customers can only be marked distinct"
        )
    with engine.begin() as db:
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


def list_resolutions(engine: Engine, merchant_id: str) -> list[DuplicateResolution]:
    with engine.connect() as db:
        return list(
            db.execute(
                select(DuplicateResolution)
                .where(DuplicateResolution.merchant_id == merchant_id)
                .order_by(DuplicateResolution.id)
            ).all()
        )
