"""The store's read side for runs: history, per-record outcomes, drift and freshness, as typed results.

Dagster and the CLI ask these functions instead of querying tables themselves, so a column or rule changes
in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from resolve_sync.kinds import Outcome, RecordKind, RunStatus
from resolve_sync.store.models import InvoiceDrift, ResolveInvoice, SyncRecordOutcome, SyncRun


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


def _summary(row: SyncRun) -> RunSummary:
    return RunSummary(
        id=row.id,
        connection_id=row.connection_id,
        merchant_id=row.merchant_id,
        dagster_run_id=row.dagster_run_id,
        mode=row.mode,
        status=row.status,
        as_of=row.as_of,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=dict(row.counts or {}),
        error=row.error,
    )


def last_runs(engine: Engine, connection_id: int, limit: int = 3) -> list[RunSummary]:
    with engine.connect() as db:
        rows = db.execute(
            select(SyncRun)
            .where(SyncRun.connection_id == connection_id)
            .order_by(SyncRun.id.desc())
            .limit(limit)
        )
        return [_summary(r) for r in rows]


def get_run(engine: Engine, run_id: int) -> RunSummary | None:
    with engine.connect() as db:
        row = db.execute(select(SyncRun).where(SyncRun.id == run_id)).first()
        return _summary(row) if row else None


def failure_of_dagster_run(engine: Engine, dagster_run_id: str) -> str | None:
    """Why the sync behind a Dagster run failed, as the ledger recorded it."""
    with engine.connect() as db:
        return db.scalar(
            select(SyncRun.error)
            .where(SyncRun.dagster_run_id == dagster_run_id, SyncRun.status != RunStatus.SUCCEEDED)
            .order_by(SyncRun.id.desc())
            .limit(1)
        )


def last_success(engine: Engine, connection_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """Connection id → when it last finished a successful sync (absent if never)."""
    ids = list(connection_ids)
    if not ids:
        return {}
    with engine.connect() as db:
        rows = db.execute(
            select(SyncRun.connection_id, func.max(SyncRun.finished_at))
            .where(SyncRun.connection_id.in_(ids), SyncRun.status == RunStatus.SUCCEEDED)
            .group_by(SyncRun.connection_id)
        )
        return {connection_id: finished for connection_id, finished in rows if finished is not None}


def record_outcomes(
    engine: Engine,
    run_ids: Sequence[int],
    *,
    outcomes: Sequence[Outcome | str] | None = None,
    record_kind: RecordKind | None = None,
    limit: int | None = None,
) -> list[RecordOutcome]:
    if not run_ids:
        return []
    query = select(SyncRecordOutcome).where(SyncRecordOutcome.run_id.in_(list(run_ids)))
    if outcomes:
        query = query.where(SyncRecordOutcome.outcome.in_([str(o) for o in outcomes]))
    if record_kind:
        query = query.where(SyncRecordOutcome.record_kind == record_kind)
    query = query.order_by(SyncRecordOutcome.id)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as db:
        return [
            RecordOutcome(
                r.run_id,
                r.record_kind,
                r.netsuite_id,
                r.resolve_id,
                r.outcome,
                r.reason,
                r.fields,
                r.created_at,
            )
            for r in db.execute(query)
        ]


def outcome_totals(engine: Engine, run_ids: Sequence[int]) -> Counter[tuple[str, str]]:
    """(record kind, outcome) → how many, over the given runs."""
    if not run_ids:
        return Counter()
    with engine.connect() as db:
        rows = db.execute(
            select(SyncRecordOutcome.record_kind, SyncRecordOutcome.outcome, func.count())
            .where(SyncRecordOutcome.run_id.in_(list(run_ids)))
            .group_by(SyncRecordOutcome.record_kind, SyncRecordOutcome.outcome)
        )
        return Counter({(kind, outcome): n for kind, outcome, n in rows})


def drift_entries(engine: Engine, merchant_id: str, *, include_reviewed: bool = False) -> list[DriftEntry]:
    query = (
        select(
            InvoiceDrift.netsuite_id,
            ResolveInvoice.number,
            InvoiceDrift.resolve_invoice_id,
            InvoiceDrift.changes,
            InvoiceDrift.detected_at,
            InvoiceDrift.reviewed_at,
        )
        .join(ResolveInvoice, ResolveInvoice.id == InvoiceDrift.resolve_invoice_id)
        .where(InvoiceDrift.merchant_id == merchant_id)
        .order_by(InvoiceDrift.detected_at)
    )
    if not include_reviewed:
        query = query.where(InvoiceDrift.reviewed_at.is_(None))
    with engine.connect() as db:
        return [DriftEntry(*row) for row in db.execute(query)]


def open_drift_count(engine: Engine, merchant_id: str) -> int:
    with engine.connect() as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(InvoiceDrift)
                .where(InvoiceDrift.merchant_id == merchant_id, InvoiceDrift.reviewed_at.is_(None))
            )
            or 0
        )


def run_of_dagster_run(engine: Engine, dagster_run_id: str) -> RunSummary | None:
    """The sync run a Dagster run carried out (the latest, if it began more than one)."""
    with engine.connect() as db:
        row = db.execute(
            select(SyncRun)
            .where(SyncRun.dagster_run_id == dagster_run_id)
            .order_by(SyncRun.id.desc())
            .limit(1)
        ).first()
        return _summary(row) if row else None
