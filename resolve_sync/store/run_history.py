"""The store's read side for runs: history, per-record outcomes, drift and freshness, as typed results.

Dagster and the CLI ask these functions instead of querying tables themselves, so a column or rule changes
in one place. The queries are plain SQL over `store.reads`, so the CLI's read-only commands run them over
the bare driver (no SQLAlchemy import) and Dagster over its engine.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from resolve_sync.kinds import Outcome, RecordKind, RunStatus
from resolve_sync.store.reads import Reads, as_reads, day, document, utc

if TYPE_CHECKING:
    from sqlalchemy import Engine

Source = Union["Engine", Reads]


@dataclass(frozen=True)
class RunSummary:
    id: int
    connection_id: int
    merchant_id: str
    dagster_run_id: str | None
    mode: str
    status: str
    as_of: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime | None
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def count(self, name: str) -> int:
        return int(self.counts.get(name, 0) or 0)


@dataclass(frozen=True)
class RecordOutcome:
    run_id: int
    record_kind: str
    netsuite_id: str
    resolve_id: str | None
    outcome: str
    reason: str | None
    fields: list[str] | None
    created_at: dt.datetime


@dataclass(frozen=True)
class DriftEntry:
    netsuite_id: str
    number: str | None
    resolve_invoice_id: str
    changes: dict[str, Any]
    detected_at: dt.datetime
    reviewed_at: dt.datetime | None


RUN_COLUMNS = "id, connection_id, merchant_id, dagster_run_id, mode, status, as_of, started_at, finished_at, counts, error"


def _summary(row: tuple[Any, ...]) -> RunSummary:
    (
        run_id,
        connection_id,
        merchant_id,
        dagster_run_id,
        mode,
        status,
        as_of,
        started,
        finished,
        counts,
        error,
    ) = row
    return RunSummary(
        id=run_id,
        connection_id=connection_id,
        merchant_id=merchant_id,
        dagster_run_id=dagster_run_id,
        mode=mode,
        status=status,
        as_of=day(as_of),  # type: ignore[arg-type]
        started_at=utc(started),  # type: ignore[arg-type]
        finished_at=utc(finished),
        counts=dict(document(counts) or {}),
        error=error,
    )


def last_runs(source: Source, connection_id: int, limit: int = 3) -> list[RunSummary]:
    rows = as_reads(source).rows(
        f"SELECT {RUN_COLUMNS} FROM sync_runs WHERE connection_id = :connection ORDER BY id DESC LIMIT :limit",
        {"connection": connection_id, "limit": limit},
    )
    return [_summary(r) for r in rows]


def get_run(source: Source, run_id: int) -> RunSummary | None:
    rows = as_reads(source).rows(f"SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = :run", {"run": run_id})
    return _summary(rows[0]) if rows else None


def failure_of_dagster_run(source: Source, dagster_run_id: str) -> str | None:
    """Why the sync behind a Dagster run failed, as the ledger recorded it."""
    rows = as_reads(source).rows(
        "SELECT error FROM sync_runs WHERE dagster_run_id = :dagster AND status <> :succeeded "
        "ORDER BY id DESC LIMIT 1",
        {"dagster": dagster_run_id, "succeeded": str(RunStatus.SUCCEEDED)},
    )
    return rows[0][0] if rows else None


def last_success(source: Source, connection_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """Connection id → when it last finished a successful sync (absent if never)."""
    ids = list(connection_ids)
    if not ids:
        return {}
    rows = as_reads(source).rows(
        "SELECT connection_id, MAX(finished_at) FROM sync_runs "
        "WHERE connection_id IN :ids AND status = :succeeded GROUP BY connection_id",
        {"ids": ids, "succeeded": str(RunStatus.SUCCEEDED)},
    )
    return {connection_id: utc(finished) for connection_id, finished in rows if finished is not None}  # type: ignore[misc]


def record_outcomes(
    source: Source,
    run_ids: Sequence[int],
    *,
    outcomes: Sequence[Outcome | str] | None = None,
    record_kind: RecordKind | None = None,
    limit: int | None = None,
) -> list[RecordOutcome]:
    if not run_ids:
        return []
    sql = (
        "SELECT run_id, record_kind, netsuite_id, resolve_id, outcome, reason, fields, created_at "
        "FROM sync_record_outcomes WHERE run_id IN :runs"
    )
    params: dict[str, Any] = {"runs": list(run_ids)}
    if outcomes:
        sql += " AND outcome IN :outcomes"
        params["outcomes"] = [str(o) for o in outcomes]
    if record_kind:
        sql += " AND record_kind = :kind"
        params["kind"] = str(record_kind)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return [
        RecordOutcome(run, kind, netsuite_id, resolve_id, outcome, reason, document(fields), utc(created))  # type: ignore[arg-type]
        for run, kind, netsuite_id, resolve_id, outcome, reason, fields, created in as_reads(source).rows(
            sql, params
        )
    ]


def outcome_totals(source: Source, run_ids: Sequence[int]) -> Counter[tuple[str, str]]:
    """(record kind, outcome) → how many, over the given runs."""
    if not run_ids:
        return Counter()
    rows = as_reads(source).rows(
        "SELECT record_kind, outcome, COUNT(*) FROM sync_record_outcomes WHERE run_id IN :runs "
        "GROUP BY record_kind, outcome",
        {"runs": list(run_ids)},
    )
    return Counter({(kind, outcome): n for kind, outcome, n in rows})


def drift_entries(source: Source, merchant_id: str, *, include_reviewed: bool = False) -> list[DriftEntry]:
    sql = (
        "SELECT d.netsuite_id, i.number, d.resolve_invoice_id, d.changes, d.detected_at, d.reviewed_at "
        "FROM invoice_drift d JOIN resolve_invoices i ON i.id = d.resolve_invoice_id AND i.merchant_id = d.merchant_id "
        "WHERE d.merchant_id = :merchant"
    )
    if not include_reviewed:
        sql += " AND d.reviewed_at IS NULL"
    rows = as_reads(source).rows(sql + " ORDER BY d.detected_at, d.id", {"merchant": merchant_id})
    return [
        DriftEntry(netsuite_id, number, invoice, document(changes), utc(detected), utc(reviewed))  # type: ignore[arg-type]
        for netsuite_id, number, invoice, changes, detected, reviewed in rows
    ]


def open_drift_count(source: Source, merchant_id: str) -> int:
    rows = as_reads(source).rows(
        "SELECT COUNT(*) FROM invoice_drift WHERE merchant_id = :merchant AND reviewed_at IS NULL",
        {"merchant": merchant_id},
    )
    return int(rows[0][0] or 0)


def run_of_dagster_run(source: Source, dagster_run_id: str) -> RunSummary | None:
    """The sync run a Dagster run carried out (the latest, if it began more than one)."""
    rows = as_reads(source).rows(
        f"SELECT {RUN_COLUMNS} FROM sync_runs WHERE dagster_run_id = :dagster ORDER BY id DESC LIMIT 1",
        {"dagster": dagster_run_id},
    )
    return _summary(rows[0]) if rows else None


# The latest outcome recorded for each record of the connections: the sync writes an outcome when it does
# something to a record or keeps it out for a new reason, not again each night for the same story, so
# "what is held back now" is the latest row per record, not the last run's rows.
LATEST_OUTCOMES = (
    "SELECT o.run_id, o.record_kind, o.netsuite_id, o.resolve_id, o.outcome, o.reason, o.fields, o.created_at, "
    "o.id FROM sync_record_outcomes o JOIN ("
    "SELECT MAX(x.id) AS id FROM sync_record_outcomes x JOIN sync_runs r ON r.id = x.run_id "
    "WHERE r.connection_id IN :connections GROUP BY r.connection_id, x.record_kind, x.netsuite_id"
    ") latest ON latest.id = o.id"
)


def current_outcomes(
    source: Source,
    connection_ids: Sequence[int],
    *,
    outcomes: Sequence[Outcome | str] | None = None,
    limit: int | None = None,
) -> list[RecordOutcome]:
    """Each record's latest outcome over the connections' runs (optionally only these outcomes)."""
    if not connection_ids:
        return []
    sql = f"SELECT * FROM ({LATEST_OUTCOMES}) current_state"
    params: dict[str, Any] = {"connections": list(connection_ids)}
    if outcomes:
        sql += " WHERE outcome IN :outcomes"
        params["outcomes"] = [str(o) for o in outcomes]
    sql += " ORDER BY record_kind, LENGTH(netsuite_id), netsuite_id"  # ids in numeric order, on both engines
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return [
        RecordOutcome(run, kind, netsuite_id, resolve_id, outcome, reason, document(fields), utc(created))  # type: ignore[arg-type]
        for run, kind, netsuite_id, resolve_id, outcome, reason, fields, created, _ in as_reads(source).rows(
            sql, params
        )
    ]


def current_outcome_totals(source: Source, connection_ids: Sequence[int]) -> Counter[tuple[str, str]]:
    """(record kind, latest outcome) → how many records, over the connections."""
    if not connection_ids:
        return Counter()
    rows = as_reads(source).rows(
        f"SELECT record_kind, outcome, COUNT(*) FROM ({LATEST_OUTCOMES}) current_state "
        "GROUP BY record_kind, outcome",
        {"connections": list(connection_ids)},
    )
    return Counter({(kind, outcome): n for kind, outcome, n in rows})


def synced_filters(source: Source, connection_ids: Iterable[int]) -> dict[int, str | None]:
    """The filter field each connection's customers were last synced under (its cursor's), for those that
    have been synced; R10 compares it with the connection's filter field now."""
    ids = list(connection_ids)
    if not ids:
        return {}
    rows = as_reads(source).rows(
        "SELECT connection_id, filter_field_id FROM sync_cursors "
        "WHERE stream = 'customers' AND connection_id IN :connections",
        {"connections": ids},
    )
    return {connection_id: filter_field_id for connection_id, filter_field_id in rows}
