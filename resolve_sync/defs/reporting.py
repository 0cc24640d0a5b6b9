"""Step results → Dagster materialisations and check results. Presentation only: every number and
decision comes from `resolve_sync.sync.steps`."""

from __future__ import annotations

from typing import Any

import dagster as dg

from resolve_sync.names import DRIFT_CHECK, DUPLICATES_CHECK, FILTER_CHECK, HELD_BACK_CHECK
from resolve_sync.store.connections import Connection
from resolve_sync.sync.duplicates import DuplicatePair
from resolve_sync.sync.errors import FilterFieldInvalid
from resolve_sync.sync.steps import COUNT_NAMES, CustomersStaged, InvoicesStaged, RecordsWritten

MARKDOWN_ROWS = 100


def invalid_filter_result(invalid: FilterFieldInvalid) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"filter_field_id": invalid.field_id},
        check_results=[
            dg.AssetCheckResult(
                check_name=FILTER_CHECK,
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=str(invalid),
                metadata={"field": invalid.field_id, "reason": invalid.reason},
            ),
            dg.AssetCheckResult(
                check_name=DUPLICATES_CHECK,
                passed=True,
                severity=dg.AssetCheckSeverity.ERROR,
                description="Not evaluated: the filter field is invalid.",
            ),
        ],
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
                description=(
                    f"{len(pairs)} customer pair(s) would be duplicates in Resolve; resolve them with "
                    f"`resolve-sync duplicates link|distinct {connection.merchant_id} LEFT RIGHT`."
                )
                if pairs
                else "No duplicates.",
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
                description=f"{held_back} record(s) held back; "
                f"`resolve-sync status --merchant {connection.merchant_id} --outcomes` lists them with reasons.",
                metadata={"held_back": held_back, "examples": dg.MetadataValue.md(examples or "none")},
            ),
            dg.AssetCheckResult(
                check_name=DRIFT_CHECK,
                passed=written.open_drift == 0,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{written.open_drift} financed-invoice change(s) to review "
                f"(`resolve-sync drift list {connection.merchant_id}`).",
                metadata={"open_drift": written.open_drift, "frozen_this_run": int(counts.get("frozen", 0))},
            ),
        ],
    )


def _step_metadata(counts: dict[str, int], mode: str, run_id: int) -> dict[str, Any]:
    return {**{k: int(v) for k, v in counts.items()}, "mode": str(mode), "sync_run_id": run_id}


def duplicates_markdown(pairs: list[DuplicatePair], merchant_id: str) -> str:
    lines = ["| left | right | matched on | resolve with |", "|---|---|---|---|"]
    for pair in pairs[:MARKDOWN_ROWS]:
        left, right = pair.keys
        lines.append(
            f"| {left} ({_cell(pair.left.name)}) | {right} ({_cell(pair.right.name)}) | {pair.matched_on} | "
            f"`resolve-sync duplicates distinct {merchant_id} {left} {right}` or `… link …` |"
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
