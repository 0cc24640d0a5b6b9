"""Operators' answers to suspected duplicates (R12) as the rest of the code reads them: plain data.

Reading needs no SQLAlchemy (see `store.reads`), so `resolve-sync duplicates list` answers at once;
recording and forgetting them lives in `store.duplicate_resolutions`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Union

from resolve_sync.store.reads import Reads, as_reads, utc

if TYPE_CHECKING:
    from sqlalchemy import Connection as DB
    from sqlalchemy import Engine

Source = Union["Engine", "DB", Reads]


@dataclasses.dataclass(frozen=True)
class ResolutionRecord:
    """One pair an operator resolved; `left_key` < `right_key`, each `netsuite:<id>` or `resolve:<id>`."""

    id: int
    merchant_id: str
    left_key: str
    right_key: str
    resolution: str
    resolved_by: str
    created_at: dt.datetime


def list_resolutions(source: Source, merchant_id: str) -> list[ResolutionRecord]:
    """The merchant's resolutions in the order they were recorded."""
    rows = as_reads(source).rows(
        "SELECT id, merchant_id, left_key, right_key, resolution, resolved_by, created_at "
        "FROM duplicate_resolutions WHERE merchant_id = :merchant ORDER BY id",
        {"merchant": merchant_id},
    )
    return [ResolutionRecord(*plain, created_at=utc(created)) for *plain, created in rows]  # type: ignore[arg-type]
