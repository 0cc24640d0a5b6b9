"""Plan: what one record needs, decided from NetSuite's values, the link's last-synced values and the
Resolve row's state. Pure functions; apply carries the actions out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from resolve_sync.sync.transform import (
    Ancestry,
    CustomerFacts,
    InvalidRecord,
    archive_reason,
    comparable,
    is_in_filter,
    is_synced,
    netsuite_changes,
    resolve_customer_fields,
    resolve_invoice_fields,
)

CREATE, UPDATE, UNCHANGED, FROZEN, HELD_BACK, INVALID, SKIPPED = (
    "created",
    "updated",
    "unchanged",
    "frozen",
    "held_back",
    "invalid",
    "skipped",
)


@dataclass(frozen=True)
class Link:
    resolve_id: str
    synced_values: Mapping[str, Any]


@dataclass(frozen=True)
class ResolveRow:
    version: int
    advanced: bool = False


@dataclass
class Action:
    kind: str
    record_kind: str
    netsuite_id: str
    resolve_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # what to write (all fields on create)
    synced_values: dict[str, Any] | None = None  # what the link remembers afterwards
    reason: str | None = None
    archive_change: str | None = None  # "archived" or "unarchived"
    drift: dict[str, Any] | None = None
    expected_version: int | None = None
    adopt: bool = False  # link to an existing Resolve customer an operator matched (R12)
    changed_this_run: bool = True  # a held-back or invalid record's outcome is recorded when it changes

    @property
    def writes(self) -> bool:
        return self.kind in (CREATE, UPDATE)


def _archive_change(changed: Mapping[str, Any]) -> str | None:
    if "archived" not in changed:
        return None
    return "archived" if changed["archived"] else "unarchived"


def plan_customer(
    row: Mapping[str, Any],
    facts: CustomerFacts,
    link: Link | None,
    resolve: ResolveRow | None,
    *,
    adopt_resolve_id: str | None = None,
    filter_field_id: str | None = None,
) -> Action:
    netsuite_id = facts.netsuite_id
    if not is_in_filter(facts):
        why = (f"filter field {filter_field_id} is not checked; " if filter_field_id else "") + (
            "synced before, kept as it is (R10)" if link else "not synced"
        )
        return Action(SKIPPED, "customer", netsuite_id, link.resolve_id if link else None, reason=why)
    try:
        fresh = resolve_customer_fields(row, facts)
    except InvalidRecord as invalid:
        return Action(
            INVALID, "customer", netsuite_id, link.resolve_id if link else None, reason=str(invalid)
        )
    reason = archive_reason(facts)
    if link is None and adopt_resolve_id is None:
        return Action(
            CREATE,
            "customer",
            netsuite_id,
            fields=fresh,
            synced_values=netsuite_changes(fresh, None).synced_values,
            reason=reason,
            archive_change="archived" if fresh["archived"] else None,
        )
    if link is None:
        diff = netsuite_changes(fresh, None)
        return Action(
            UPDATE,
            "customer",
            netsuite_id,
            adopt_resolve_id,
            fields={**diff.changed, "netsuite_id": netsuite_id},
            synced_values=diff.synced_values,
            reason="linked to an existing Resolve customer (R12)",
            expected_version=resolve.version if resolve else None,
            adopt=True,
        )
    diff = netsuite_changes(fresh, link.synced_values)
    if not diff.changed:
        return Action(UNCHANGED, "customer", netsuite_id, link.resolve_id)
    change = _archive_change(diff.changed)
    return Action(
        UPDATE,
        "customer",
        netsuite_id,
        link.resolve_id,
        fields=diff.changed,
        synced_values=diff.synced_values,
        reason=reason if change == "archived" else None,
        archive_change=change,
        expected_version=resolve.version if resolve else None,
    )


def invoice_owner(
    entity_id: str | None,
    customers: Mapping[str, CustomerFacts],
    ancestry: Mapping[str, Ancestry],
    filter_field_id: str | None,
) -> tuple[str | None, str | None]:
    """R5 + R9: the NetSuite customer an invoice belongs to in Resolve (its top-level ancestor), or None
    and why. An invoice whose own customer is filtered out is out of scope (`skip:` reason)."""
    entity = customers.get(entity_id or "")
    if entity is None or not entity.in_scope:
        return None, f"customer {entity_id} is not among the subsidiary's customers"
    if not is_in_filter(entity):
        return None, f"skip:customer {entity_id} is filtered out by {filter_field_id}"
    top = ancestry.get(entity.netsuite_id)
    if top is None or top.top_level_id is None:
        return None, top.reason if top else f"customer {entity_id} has no resolvable top-level customer"
    owner = customers[top.top_level_id]
    if not is_synced(owner):
        why = "is outside the subsidiary" if not owner.in_scope else f"is filtered out by {filter_field_id}"
        return None, f"its top-level customer {owner.netsuite_id} (ancestor of {entity_id}) {why}"
    return owner.netsuite_id, None


def plan_invoice(
    row: Mapping[str, Any],
    owner_resolve_id: str | None,
    hold_reason: str | None,
    link: Link | None,
    resolve: ResolveRow | None,
) -> Action:
    netsuite_id = str(row["netsuite_id"])
    resolve_id = link.resolve_id if link else None
    if hold_reason is not None and hold_reason.startswith("skip:"):
        return Action(SKIPPED, "invoice", netsuite_id, resolve_id, reason=hold_reason[5:])
    if owner_resolve_id is None:
        return Action(HELD_BACK, "invoice", netsuite_id, resolve_id, reason=hold_reason)
    try:
        fresh = resolve_invoice_fields(row, owner_resolve_id)
    except InvalidRecord as invalid:
        return Action(INVALID, "invoice", netsuite_id, resolve_id, reason=str(invalid))
    if link is None:
        return Action(
            CREATE,
            "invoice",
            netsuite_id,
            fields=fresh,
            synced_values=netsuite_changes(fresh, None).synced_values,
        )
    diff = netsuite_changes(fresh, link.synced_values)
    if not diff.changed:
        return Action(UNCHANGED, "invoice", netsuite_id, resolve_id)
    if resolve is not None and resolve.advanced:
        # R8: a financed invoice is never changed; the NetSuite change is kept for review.
        drift = {
            name: {"synced": link.synced_values.get(name), "netsuite": comparable(value)}
            for name, value in diff.changed.items()
        }
        return Action(
            FROZEN,
            "invoice",
            netsuite_id,
            resolve_id,
            drift=drift,
            reason="financed (advanced) in Resolve; NetSuite changes kept as drift for review",
        )
    return Action(
        UPDATE,
        "invoice",
        netsuite_id,
        resolve_id,
        fields=diff.changed,
        synced_values=diff.synced_values,
        expected_version=resolve.version if resolve else None,
    )
