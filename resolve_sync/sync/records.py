"""The plain data the sync's steps hand each other: facts about NetSuite customers, what a link remembers,
the state of a Resolve row, and the action planned for one record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from resolve_sync.kinds import ArchiveChange, Outcome, RecordKind

# The NetSuite columns the staging tables keep per record, as NetSuite sent them (extract writes them,
# explain reads them back).
CUSTOMER_COLUMNS = (
    "entityid",
    "companyname",
    "email",
    "phone",
    "isinactive",
    "parent",
    "filter_value",
    "lastmodified",
)
INVOICE_COLUMNS = (
    "tranid",
    "trandate",
    "duedate",
    "entity",
    "status",
    "currency",
    "foreigntotal",
    "foreignamountunpaid",
    "memo",
    "lastmodified",
)


@dataclass(frozen=True)
class CustomerFacts:
    """What the scope and hierarchy rules need about one NetSuite customer."""

    netsuite_id: str
    parent_id: str | None
    inactive: bool
    in_scope: bool  # returned by the subsidiary's scan (R1); false for ancestors fetched only for R5
    filter_checked: bool | None  # None when the connection has no filter field (R9)


@dataclass(frozen=True)
class Link:
    """A NetSuite record's link to its Resolve record, with the values the sync last wrote (R7)."""

    resolve_id: str
    synced_values: Mapping[str, Any]


@dataclass(frozen=True)
class ResolveRow:
    """The Resolve row's state the plan depends on: its version (R7 compare-and-set) and financing (R8)."""

    version: int
    advanced: bool = False


@dataclass
class Action:
    """What the sync will do to one record, and why; the writer carries it out and records the outcome."""

    kind: Outcome
    record_kind: RecordKind
    netsuite_id: str
    resolve_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # what to write (all fields on create)
    synced_values: dict[str, Any] | None = None  # what the link remembers afterwards
    reason: str | None = None
    archive_change: ArchiveChange | None = None
    drift: dict[str, Any] | None = None
    expected_version: int | None = None
    adopt: bool = False  # link to an existing Resolve customer an operator matched (R12)
    changed_this_run: bool = True  # a held-back or invalid record's outcome is recorded when it changes

    @property
    def writes(self) -> bool:
        return self.kind.writes
