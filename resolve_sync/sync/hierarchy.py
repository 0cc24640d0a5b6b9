"""Customer hierarchies: who owns a sub-customer's invoices (R5) and which customers are archived (R5, R6)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from resolve_sync.sync.records import CustomerFacts
from resolve_sync.sync.scope import is_in_filter, is_synced


@dataclass(frozen=True)
class Ancestry:
    top_level_id: str | None
    reason: str | None = None  # why there is no usable top-level ancestor


def top_level_ancestors(parents: Mapping[str, str | None]) -> dict[str, Ancestry]:
    """R5: each customer's top-level ancestor at any depth. A cycle, or a parent NetSuite did not return,
    yields no ancestor and a reason, so nothing is attached to the wrong customer."""
    resolved: dict[str, Ancestry] = {}
    for start in parents:
        path: list[str] = []
        seen: set[str] = set()
        node: str | None = start
        result: Ancestry
        while True:
            if node in resolved:
                result = resolved[node]
                break
            if node in seen:
                result = Ancestry(
                    None, f"the parent chain of customer {start} has a cycle ({' → '.join(path)})"
                )
                break
            if node not in parents:
                result = Ancestry(
                    None, f"parent customer {node} of customer {start} was not found in NetSuite"
                )
                break
            seen.add(node)
            path.append(node)
            parent = parents[node]
            if parent is None:
                result = Ancestry(node)
                break
            node = parent
        for member in path:
            resolved.setdefault(member, result)
    return resolved


def descendants_of(customer_ids: Iterable[str], customers: Mapping[str, CustomerFacts]) -> set[str]:
    """R5: a change to a customer (its parent, scope or filter box) can change the owner of the invoices of
    every customer below it, at any depth; these are the customers whose invoices must be planned again."""
    children: dict[str, list[str]] = {}
    for customer in customers.values():
        if customer.parent_id is not None:
            children.setdefault(customer.parent_id, []).append(customer.netsuite_id)
    affected: set[str] = set()
    pending = [c for c in customer_ids]
    while pending:
        current = pending.pop()
        if current in affected:
            continue  # a cycle, or reached twice
        affected.add(current)
        pending.extend(children.get(current, ()))
    return affected


def archive_reason(customer: CustomerFacts) -> str | None:
    """R5 + R6: sub-customers are archived at once; inactive customers are archived; others are not."""
    if customer.parent_id is not None:
        return f"sub-customer of NetSuite customer {customer.parent_id}"
    if customer.inactive:
        return "inactive in NetSuite"
    return None


@dataclass(frozen=True)
class InvoiceOwner:
    """Whom an invoice belongs to in Resolve: a NetSuite customer id, or none and why."""

    netsuite_id: str | None
    reason: str | None = None
    out_of_scope: bool = False  # its own customer is filtered out (R9): skipped, not held back


def invoice_owner(
    entity_id: str | None,
    customers: Mapping[str, CustomerFacts],
    ancestry: Mapping[str, Ancestry],
    filter_field_id: str | None,
) -> InvoiceOwner:
    """R5 + R9: an invoice belongs to its customer's top-level ancestor. If that ancestor is not synced the
    invoice is held back with the reason; an invoice whose own customer is filtered out is out of scope."""
    entity = customers.get(entity_id or "")
    if entity is None or not entity.in_scope:
        return InvoiceOwner(None, f"customer {entity_id} is not among the subsidiary's customers")
    if not is_in_filter(entity):
        return InvoiceOwner(
            None, f"customer {entity_id} is filtered out by {filter_field_id}", out_of_scope=True
        )
    top = ancestry.get(entity.netsuite_id)
    if top is None or top.top_level_id is None:
        return InvoiceOwner(
            None, top.reason if top else f"customer {entity_id} has no resolvable top-level customer"
        )
    owner = customers[top.top_level_id]
    if not is_synced(owner):
        why = "is outside the subsidiary" if not owner.in_scope else f"is filtered out by {filter_field_id}"
        return InvoiceOwner(
            None, f"its top-level customer {owner.netsuite_id} (ancestor of {entity_id}) {why}"
        )
    return InvoiceOwner(owner.netsuite_id)
