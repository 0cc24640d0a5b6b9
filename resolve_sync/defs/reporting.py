"""Step results → Dagster materialisations and check results. Presentation only: every number and
decision comes from `resolve_sync.sync.steps`."""

from __future__ import annotations

from typing import Any

import dagster as dg

from resolve_sync.names import DRIFT_CHECK, DUPLICATES_CHECK, FILTER_CHECK, HELD_BACK_CHECK
from resolve_sync.store.connections import Connection
from resolve_sync.sync.duplicates import DuplicatePair, resolution_commands
from resolve_sync.sync.errors import FilterFieldInvalid
from resolve_sync.sync.scope import subsidiary_option
from resolve_sync.sync.steps import COUNT_NAMES, CustomersStaged, InvoicesStaged, RecordsWritten

MARKDOWN_ROWS = 100


def invalid_filter_checks(invalid: FilterFieldInvalid) -> list[dg.AssetCheckResult]:
    """The filter check's failure. Nothing was read, so there is no materialisation and the duplicates
    check is not evaluated (a 'passed' would claim something that was never looked at)."""
    return [
        dg.AssetCheckResult(
            check_name=FILTER_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=str(invalid),
            metadata={"field": invalid.field_id, "reason": invalid.reason},
        )
    ]


def invalid_filter_failure(invalid: FilterFieldInvalid) -> str:
    return f"Check {FILTER_CHECK} failed: {invalid}"


def duplicates_failure(connection: Connection, pairs: list[DuplicatePair]) -> str:
    return f"Check {DUPLICATES_CHECK} failed: {duplicates_description(connection, pairs)}"


def duplicates_description(connection: Connection, pairs: list[DuplicatePair]) -> str:
    """The reason, one example pair, and the commands that resolve it, runnable as printed."""
    merchant = connection.merchant_id
    first = pairs[0]  # a pair's left side is always its first key
    return (
        f"{connection.partition_key}: {len(pairs)} customer pair(s) would become duplicates in Resolve, "
        f"e.g. {first.left.key} ({first.left.name}) and {first.right.key} ({first.right.name}) have the same "
        f"{first.matched_on}. Nothing was written. Resolve it with {resolution_commands(merchant, first)}; "
        f"`resolve-sync duplicates list {merchant}{subsidiary_option(connection)}` lists every pair. Then "
        f"materialise {connection.partition_key} again."
    )


def customers_result(connection: Connection, staged: CustomersStaged) -> dg.MaterializeResult:
    pairs = staged.duplicates
    filter_text = (
        f"Filter field {connection.filter_field_id!r} is valid."
        if connection.filter_field_id
        else "No filter field: every customer of the subsidiary is synced."
    )
    duplicates_metadata: dict[str, Any] = {"pairs": len(pairs)}
    if pairs:
        duplicates_metadata["duplicates"] = dg.MetadataValue.md(
            duplicates_markdown(pairs, connection.merchant_id)
        )
    return dg.MaterializeResult(
        metadata=_step_metadata(staged.counts, staged.run.mode, staged.run.run_id),
        check_results=[
            dg.AssetCheckResult(
                check_name=FILTER_CHECK,
                passed=True,
                description=filter_text,
                metadata={"field": connection.filter_field_id or "(none)"},
            ),
            dg.AssetCheckResult(
                check_name=DUPLICATES_CHECK,
                passed=not pairs,
                severity=dg.AssetCheckSeverity.ERROR,
                description=duplicates_description(connection, pairs)
                if pairs
                else "No customer would become a duplicate in Resolve.",
                metadata=duplicates_metadata,
            ),
        ],
    )


def invoices_result(staged: InvoicesStaged) -> dg.MaterializeResult:
    metadata = _step_metadata(staged.counts, staged.run.mode, staged.run.run_id)
    metadata["window_start"] = staged.run.invoice_window_start.isoformat()
    return dg.MaterializeResult(metadata=metadata)


def records_result(connection: Connection, written: RecordsWritten) -> dg.MaterializeResult:
    counts = written.counts
    metadata: dict[str, Any] = {name: int(counts.get(name, 0)) for name in (*COUNT_NAMES, "written")}
    metadata["summary"] = dg.MetadataValue.md(summary_markdown(connection, written.run.mode, counts))
    held_back = int(counts.get("held_back", 0))
    examples = "\n".join(f"- invoice {r.netsuite_id}: {r.reason}" for r in written.held_back_invoices)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=HELD_BACK_CHECK,
                passed=held_back == 0,
                severity=dg.AssetCheckSeverity.WARN,
                description=(
                    f"{connection.partition_key}: {held_back} record(s) held back, most often invoices whose "
                    "top-level customer is not synced (filtered out or in another subsidiary); they are "
                    f"written once that changes. `{held_back_command(connection)}` lists them with reasons."
                )
                if held_back
                else "No invoice held back.",
                metadata={"held_back": held_back, "examples": dg.MetadataValue.md(examples or "none")},
            ),
            dg.AssetCheckResult(
                check_name=DRIFT_CHECK,
                passed=written.open_drift == 0,
                severity=dg.AssetCheckSeverity.WARN,
                description=(
                    f"{written.open_drift} NetSuite change(s) to financed invoices were kept aside for review "
                    f"(financed invoices are never changed by a sync); "
                    f"`resolve-sync drift list {connection.merchant_id}` lists them."
                )
                if written.open_drift
                else "No NetSuite change to a financed invoice awaits review.",
                metadata={"open_drift": written.open_drift, "frozen_this_run": int(counts.get("frozen", 0))},
            ),
        ],
    )


def held_back_command(connection: Connection) -> str:
    return (
        f"resolve-sync status --merchant {connection.merchant_id}{subsidiary_option(connection)} "
        "--outcome held_back"
    )


def _step_metadata(counts: dict[str, int], mode: str, run_id: int) -> dict[str, Any]:
    return {**{k: int(v) for k, v in counts.items()}, "mode": str(mode), "sync_run_id": run_id}


def duplicates_markdown(pairs: list[DuplicatePair], merchant_id: str) -> str:
    lines = ["| left | right | matched on | resolve with |", "|---|---|---|---|"]
    for pair in pairs[:MARKDOWN_ROWS]:
        left, right = pair.keys
        lines.append(
            f"| {left} ({_cell(pair.left.name)}) | {right} ({_cell(pair.right.name)}) | {pair.matched_on} | "
            f"{resolution_commands(merchant_id, pair)} |"
        )
    if len(pairs) > MARKDOWN_ROWS:
        lines.append(
            f"| … {len(pairs) - MARKDOWN_ROWS} more | | | `resolve-sync duplicates list {merchant_id}` |"
        )
    return "\n".join(lines)


def summary_markdown(connection: Connection, mode: str, counts: dict[str, Any]) -> str:
    rows = "\n".join(f"| {name.replace('_', ' ')} | {counts.get(name, 0)} |" for name in COUNT_NAMES)
    return (
        f"**{connection.partition_key}** ({mode} sync, filter: {connection.filter_field_id or 'none'})\n\n"
        f"| count | value |\n|---|---|\n{rows}"
    )


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "/")[:60]
