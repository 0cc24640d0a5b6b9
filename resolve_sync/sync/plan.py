"""Plan: what one record needs, decided from NetSuite's values, the link's last-synced values and the
Resolve row's state. Pure functions; the writer carries the actions out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolve_sync.kinds import ArchiveChange, Outcome, RecordKind
from resolve_sync.sync.hierarchy import InvoiceOwner, archive_reason
from resolve_sync.sync.records import Action, CustomerFacts, Link, ResolveRow
from resolve_sync.sync.scope import is_in_filter
from resolve_sync.sync.transform import (
    InvalidRecord,
    comparable,
    netsuite_changes,
    resolve_customer_fields,
    resolve_invoice_fields,
)

CUSTOMER, INVOICE = RecordKind.CUSTOMER, RecordKind.INVOICE
FINANCED_REASON = "financed (advanced) in Resolve; NetSuite changes kept as drift for review"


def archive_change(changed: Mapping[str, Any]) -> ArchiveChange | None:
    if "archived" not in changed:
        return None
    return ArchiveChange.ARCHIVED if changed["archived"] else ArchiveChange.UNARCHIVED


def keep_out_of_filter(record_kind: RecordKind, netsuite_id: str, link: Link | None, why_out: str) -> Action:
    """R10: a record that left the filter's scope is never deleted, archived or hidden; a record synced
    before is kept exactly as it is, and one never synced stays out."""
    kept = "synced before, kept as it is" if link else "not synced"
    return Action(
        Outcome.SKIPPED,
        record_kind,
        netsuite_id,
        link.resolve_id if link else None,
        reason=f"{why_out}; {kept}",
    )


def freeze_financed(
    netsuite_id: str, resolve_id: str, changed: Mapping[str, Any], synced_values: Mapping[str, Any]
) -> Action:
    """R8: once an invoice is advanced no sync changes it; what NetSuite changed is kept as drift for review."""
    drift = {
        name: {"synced": synced_values.get(name), "netsuite": comparable(value)}
        for name, value in changed.items()
    }
    return Action(Outcome.FROZEN, INVOICE, netsuite_id, resolve_id, drift=drift, reason=FINANCED_REASON)


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
        return keep_out_of_filter(
            CUSTOMER, netsuite_id, link, f"filter field {filter_field_id} is not checked"
        )
    try:
        fresh = resolve_customer_fields(row, facts)
    except InvalidRecord as invalid:
        return Action(
            Outcome.INVALID, CUSTOMER, netsuite_id, link.resolve_id if link else None, reason=str(invalid)
        )
    reason = archive_reason(facts)
    if link is None and adopt_resolve_id is None:
        return Action(
            Outcome.CREATED,
            CUSTOMER,
            netsuite_id,
            fields=fresh,
            synced_values=netsuite_changes(fresh, None).synced_values,
            reason=reason,
            archive_change=ArchiveChange.ARCHIVED if fresh["archived"] else None,
        )
    if link is None:
        diff = netsuite_changes(fresh, None)
        return Action(
            Outcome.UPDATED,
            CUSTOMER,
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
        return Action(Outcome.UNCHANGED, CUSTOMER, netsuite_id, link.resolve_id)
    change = archive_change(diff.changed)
    return Action(
        Outcome.UPDATED,
        CUSTOMER,
        netsuite_id,
        link.resolve_id,
        fields=diff.changed,
        synced_values=diff.synced_values,
        reason=reason if change == ArchiveChange.ARCHIVED else None,
        archive_change=change,
        expected_version=resolve.version if resolve else None,
    )


def plan_invoice(
    row: Mapping[str, Any],
    owner: InvoiceOwner,
    owner_resolve_id: str | None,
    link: Link | None,
    resolve: ResolveRow | None,
) -> Action:
    """`owner` is the R5 decision; `owner_resolve_id` the Resolve customer it became (None: not synced yet)."""
    netsuite_id = str(row["netsuite_id"])
    resolve_id = link.resolve_id if link else None
    if owner.out_of_scope:
        return keep_out_of_filter(INVOICE, netsuite_id, link, owner.reason or "out of the filter's scope")
    if owner_resolve_id is None:
        reason = (
            owner.reason
            or f"its customer {owner.netsuite_id} is not synced yet (see that customer's outcome)"
        )
        return Action(Outcome.HELD_BACK, INVOICE, netsuite_id, resolve_id, reason=reason)
    try:
        fresh = resolve_invoice_fields(row, owner_resolve_id)
    except InvalidRecord as invalid:
        return Action(Outcome.INVALID, INVOICE, netsuite_id, resolve_id, reason=str(invalid))
    if link is None:
        return Action(
            Outcome.CREATED,
            INVOICE,
            netsuite_id,
            fields=fresh,
            synced_values=netsuite_changes(fresh, None).synced_values,
        )
    diff = netsuite_changes(fresh, link.synced_values)
    if not diff.changed:
        return Action(Outcome.UNCHANGED, INVOICE, netsuite_id, resolve_id)
    if resolve is not None and resolve.advanced:
        return freeze_financed(netsuite_id, link.resolve_id, diff.changed, link.synced_values)
    return Action(
        Outcome.UPDATED,
        INVOICE,
        netsuite_id,
        resolve_id,
        fields=diff.changed,
        synced_values=diff.synced_values,
        expected_version=resolve.version if resolve else None,
    )
