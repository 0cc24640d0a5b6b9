"""`resolve-sync drift` (R8): NetSuite changes to financed invoices that the sync kept for review.

Read over the bare driver (`store.reads`), so it answers at once.
"""

from __future__ import annotations

from typing import Any

import click

from resolve_sync import validation
from resolve_sync.cli.output import emit, json_option


def change_text(changes: dict[str, Any]) -> str:
    """`{"amount_due": {"synced": "100", "netsuite": "120"}}` → `amount_due 100 → 120` (JSON keeps the dict)."""
    return "; ".join(
        f"{name} {_value(change.get('synced'))} → {_value(change.get('netsuite'))}"
        if isinstance(change, dict)
        else f"{name} {_value(change)}"
        for name, change in sorted(changes.items())
    )


def _value(value: Any) -> str:
    return "(empty)" if value is None or value == "" else str(value)


@click.group()
def drift() -> None:
    """NetSuite changes to financed invoices that the sync did not apply (R8)."""


@drift.command("list")
@click.argument("merchant")
@click.option("--all", "show_all", is_flag=True, help="Include reviewed drift.")
@json_option
def list_drift(merchant: str, show_all: bool, as_json: bool) -> None:
    """Open drift: which financed invoice, what NetSuite changed, and when it was seen."""
    from resolve_sync.store.connection_records import list_connections
    from resolve_sync.store.reads import open_reads
    from resolve_sync.store.run_history import drift_entries

    validation.merchant_id(merchant)
    reads = open_reads()
    entries = drift_entries(reads, merchant, include_reviewed=show_all)
    if not entries and not any(c.merchant_id == merchant for c in list_connections(reads)):
        # a typo must not read as "all clear"
        raise click.UsageError(
            f"no connection of merchant {merchant!r}; `resolve-sync connections list` shows them"
        )
    rows = [
        {
            "netsuite_id": e.netsuite_id,
            "number": e.number,
            "resolve_invoice_id": e.resolve_invoice_id,
            "changes": e.changes if as_json else change_text(e.changes),
            "detected_at": e.detected_at,
            "reviewed_at": e.reviewed_at,
        }
        for e in entries
    ]
    columns = ("netsuite_id", "number", "resolve_invoice_id", "changes", "detected_at")
    emit(rows, (*columns, "reviewed_at") if show_all else columns, as_json=as_json, empty="no open drift")
