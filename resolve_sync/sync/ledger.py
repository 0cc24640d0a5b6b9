"""The run ledger: every sync attempt of a connection, from start to its end, in `sync_runs`.

Start (taking the connection's run lease, R13, and recovering runs whose process died), load, counts as
the steps add them, finish with the cursor commit (R17), fail or cancel, and reject (a run refused before
extraction, SPEC §4). Steps may run in different processes; this table is what they agree on, and counts
travel through it, not through Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from resolve_sync.kinds import RunMode, RunStatus
from resolve_sync.store import run_leases
from resolve_sync.store.connections import Connection
from resolve_sync.store.database import upsert_insert
from resolve_sync.store.models import SyncCursor, SyncRun, utcnow
from resolve_sync.sync.cancellation import Cancellation, RunCancelled
from resolve_sync.sync.errors import RunAlreadyActive
from resolve_sync.sync.scope import invoice_window_start, run_mode

ERROR_LIMIT = 4000
INTERRUPTED = "interrupted: the run's process ended before it finished"


@dataclass(frozen=True)
class RunContext:
    """What every step of one sync run agrees on; persisted in `sync_runs` so steps may run in other processes."""

    run_id: int
    connection: Connection
    mode: RunMode
    as_of: dt.date
    subsidiary_id: int | None
    # The last run of this connection that succeeded when this one started: every staged change marked by
    # a later run (this one, or one that stopped before writing) is planned again (R15).
    since_run_id: int = 0
    holder: str = ""  # who holds the connection's run lease for this run (R13)
    # A stop request (Ctrl-C, SIGTERM) looked at in every write's transaction (`fence`) and before requests.
    cancel: Cancellation | None = field(default=None, compare=False, repr=False)

    @property
    def invoice_window_start(self) -> dt.date:
        return invoice_window_start(self.as_of)

    @property
    def full(self) -> bool:
        return self.mode == RunMode.FULL


def start_run(
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    full_refresh: bool,
    subsidiary_id: int | None,
    dagster_run_id: str | None = None,
    holder: str | None = None,
    started_at: dt.datetime | None = None,
) -> RunContext:
    """Record a new run, incremental or full as R10/R17 decide, holding the connection's run lease (R13).
    A live run holding it refuses this one with its name; a lease whose holder died is reclaimed, and any
    run still marked running is then known to be interrupted and marked failed.

    `started_at`: when the run first asked NetSuite anything, if before now; the cursors never move past
    it (`remember_cursor`), so a change made after an early answer is read by the next run."""
    with engine.begin() as db:
        run_id = db.execute(
            insert(SyncRun).values(
                **_new_run(connection, as_of, dagster_run_id, started_at),
                mode=RunMode.FULL,
                status=RunStatus.RUNNING,
                subsidiary_id=subsidiary_id,
            )
        ).inserted_primary_key[0]
        holder = holder or run_leases.process_holder()
        lease = run_leases.acquire(db, engine, connection.id, run_id, holder)
        if lease is None:
            held = run_leases.current(db, connection.id)
            db.rollback()
            raise _already_active(engine, connection, held)
        db.execute(
            update(SyncRun)
            .where(
                SyncRun.connection_id == connection.id,
                SyncRun.status == RunStatus.RUNNING,
                SyncRun.id != run_id,
            )
            .values(status=RunStatus.FAILED, finished_at=utcnow(), error=INTERRUPTED)
        )
        since = db.scalar(
            select(func.max(SyncRun.id)).where(
                SyncRun.connection_id == connection.id, SyncRun.status == RunStatus.SUCCEEDED
            )
        )
        cursors = dict(
            db.execute(
                select(SyncCursor.stream, SyncCursor.filter_field_id).where(
                    SyncCursor.connection_id == connection.id
                )
            ).all()
        )
        staged_under = db.scalars(
            select(SyncRun.filter_field_id).where(
                SyncRun.connection_id == connection.id,
                SyncRun.id > (since or 0),
                SyncRun.id != run_id,
                SyncRun.mode != RunMode.REJECTED,
            )
        ).all()
        mode = run_mode(
            full_refresh=full_refresh,
            cursor_filter_ids=cursors,
            filter_field_id=connection.filter_field_id,
            staged_filter_ids=staged_under,
        )
        db.execute(update(SyncRun).where(SyncRun.id == run_id).values(mode=mode, since_run_id=since or 0))
    return RunContext(run_id, connection, mode, as_of, subsidiary_id, since or 0, holder)


def refuse_if_held(engine: Engine, connection: Connection) -> None:
    """R13 before a run asks NetSuite anything: a connection a live run holds refuses this one at once,
    naming it, rather than after requests that would compete with that run's. `start_run`'s lease is
    still what decides (two runs starting together)."""
    held = run_leases.current(engine, connection.id)
    if held is not None and not run_leases.is_stale(held, utcnow()):
        raise _already_active(engine, connection, held)


def _already_active(
    engine: Engine, connection: Connection, held: run_leases.Lease | None
) -> RunAlreadyActive:
    if held is None:  # released between our attempt and the look
        return RunAlreadyActive(
            f"Merchant {connection.merchant_id!r}: another sync of {connection.partition_key} was starting at "
            "the same moment; run this one again.",
            merchant_id=connection.merchant_id,
        )
    with engine.connect() as db:
        other = db.execute(
            select(SyncRun.dagster_run_id, SyncRun.started_at).where(SyncRun.id == held.run_id)
        ).first()
    dagster = f" (Dagster run {other.dagster_run_id})" if other and other.dagster_run_id else ""
    started = other.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") if other else "?"
    return RunAlreadyActive(
        f"Merchant {connection.merchant_id!r}: sync run {held.run_id}{dagster} of {connection.partition_key} "
        f"is still running (started {started}, held by {held.holder}). One run per connection at a time: "
        f"wait for it (`resolve-sync status --merchant {connection.merchant_id}`); if its process is gone, "
        f"the next run takes over {int(run_leases.ttl().total_seconds())} s after its last heartbeat.",
        merchant_id=connection.merchant_id,
    )


def load_run(engine: Engine, connection: Connection, run_id: int, *, holder: str | None = None) -> RunContext:
    """A run started by an earlier step (another process of the same Dagster run): this process takes
    its lease over, or fails if another run reclaimed it meanwhile."""
    holder = holder or run_leases.process_holder()
    with engine.begin() as db:
        run = db.execute(select(SyncRun).where(SyncRun.id == run_id)).one()
        run_leases.fence(db, connection.id, run_id, holder)
    return RunContext(
        run.id, connection, RunMode(run.mode), run.as_of, run.subsidiary_id, run.since_run_id or 0, holder
    )


def fence(db: Any, ctx: RunContext) -> None:
    """In a write's own transaction: this run has not been asked to stop, and still holds its connection
    (R13). Either failing raises inside the transaction, so the batch rolls back whole."""
    if ctx.cancel is not None:
        ctx.cancel.check(ctx.connection.merchant_id)
    run_leases.fence(db, ctx.connection.id, ctx.run_id)


def hand_over(engine: Engine, ctx: RunContext, holder: str) -> None:
    """Between two steps in different processes: the lease stays with the run, not with a process."""
    with engine.begin() as db:
        run_leases.fence(db, ctx.connection.id, ctx.run_id, holder)


def run_of_dagster_run(engine: Engine, connection: Connection, dagster_run_id: str) -> int | None:
    """The sync run a Dagster run started (its first step starts it; later steps continue it)."""
    with engine.connect() as db:
        return db.scalar(
            select(func.max(SyncRun.id)).where(
                SyncRun.connection_id == connection.id, SyncRun.dagster_run_id == dagster_run_id
            )
        )


def add_counts(engine: Engine, run_id: int, counts: Mapping[str, int]) -> dict[str, Any]:
    """Add a step's counts to the run's; returns the run's counts so far."""
    with engine.begin() as db:
        _hold_run_row(db, run_id)
        current = dict(db.scalar(select(SyncRun.counts).where(SyncRun.id == run_id)) or {})
        for name, value in counts.items():
            current[name] = int(current.get(name, 0)) + int(value)
        db.execute(update(SyncRun).where(SyncRun.id == run_id).values(counts=current))
    return current


def _hold_run_row(db: Any, run_id: int) -> None:
    """Take the run's row for this transaction before reading what it accumulates (counts, pending
    cursors). One process reads customers and invoices at once (`steps.stage_and_write`), and two
    read-then-write transactions would each keep only their own stream's update. A no-op UPDATE locks the
    row on PostgreSQL and starts SQLite's write transaction, so the read below sees the other's commit."""
    db.execute(update(SyncRun).where(SyncRun.id == run_id).values(counts=SyncRun.counts))


def remember_cursor(engine: Engine, ctx: RunContext, stream: str, latest: dt.datetime | None) -> None:
    """The position the next incremental read starts from, kept pending on the run until its writes commit.

    Never later than the run's start: a record stamped in the future (a NetSuite clock ahead, an import with
    a wrong date) must not move the cursor past changes that are made now and stamped now (R17)."""
    with engine.begin() as db:
        _hold_run_row(db, ctx.run_id)
        run, started = db.execute(
            select(SyncRun.pending_cursors, SyncRun.started_at).where(SyncRun.id == ctx.run_id)
        ).one()
        previous = db.scalar(
            select(SyncCursor.last_modified).where(
                SyncCursor.connection_id == ctx.connection.id, SyncCursor.stream == stream
            )
        )
        position = max(p for p in (latest, previous) if p is not None) if (latest or previous) else None
        if position is not None and position > started:
            position = started
        pending = dict(run or {})
        pending[stream] = position.isoformat() if position else None
        db.execute(update(SyncRun).where(SyncRun.id == ctx.run_id).values(pending_cursors=pending))


def finish_run(engine: Engine, ctx: RunContext, counts: Mapping[str, Any]) -> None:
    """R17: move the pending cursors and mark the run succeeded, in one transaction, after the writes."""
    now = utcnow()
    with engine.begin() as db:
        run_leases.fence(db, ctx.connection.id, ctx.run_id)
        pending = (
            db.execute(select(SyncRun.pending_cursors).where(SyncRun.id == ctx.run_id)).scalar_one() or {}
        )
        upsert = upsert_insert(engine, SyncCursor)
        for stream, position in pending.items():
            values = {
                "connection_id": ctx.connection.id,
                "stream": stream,
                "last_modified": dt.datetime.fromisoformat(position) if position else None,
                "filter_field_id": ctx.connection.filter_field_id,
                "updated_at": now,
            }
            db.execute(
                upsert.values(**values).on_conflict_do_update(
                    index_elements=["connection_id", "stream"],
                    set_={k: v for k, v in values.items() if k not in ("connection_id", "stream")},
                )
            )
        db.execute(
            update(SyncRun)
            .where(SyncRun.id == ctx.run_id)
            .values(status=RunStatus.SUCCEEDED, finished_at=now, counts=dict(counts))
        )
        run_leases.release(db, ctx.connection.id, ctx.run_id)


def fail_run(
    engine: Engine,
    run_id: int,
    error: BaseException,
    counts: Mapping[str, Any] | None = None,
    *,
    status: RunStatus = RunStatus.FAILED,
) -> None:
    """Mark a running run failed (or cancelled) with its reason; counts so far are kept unless given."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": describe(error)}
    if counts is not None:
        values["counts"] = dict(counts)
    with engine.begin() as db:
        connection_id = db.scalar(
            update(SyncRun)
            .where(SyncRun.id == run_id, SyncRun.status == RunStatus.RUNNING)
            .values(**values)
            .returning(SyncRun.connection_id)
        )
        if connection_id is not None:
            run_leases.release(db, connection_id, run_id)


def reject_run(
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    error: BaseException,
    dagster_run_id: str | None = None,
) -> int:
    """A run refused before it started (R2, R11, authentication, NetSuite unreachable, credentials that
    cannot be decrypted, another run holding the connection, a stop request): kept in the history with its
    reason so `status` and Dagster tell the same story. Returns the run's id."""
    now = utcnow()
    status = RunStatus.CANCELLED if isinstance(error, RunCancelled) else RunStatus.FAILED
    with engine.begin() as db:
        return db.execute(
            insert(SyncRun).values(
                **_new_run(connection, as_of, dagster_run_id),
                mode=RunMode.REJECTED,
                status=status,
                finished_at=now,
                error=describe(error),
            )
        ).inserted_primary_key[0]


def _new_run(
    connection: Connection, as_of: dt.date, dagster_run_id: str | None, started_at: dt.datetime | None = None
) -> dict[str, Any]:
    return {
        "connection_id": connection.id,
        "merchant_id": connection.merchant_id,
        "dagster_run_id": dagster_run_id,
        "as_of": as_of,
        "filter_field_id": connection.filter_field_id,
        "started_at": started_at or utcnow(),
        "counts": {},
        "pending_cursors": {},
    }


def describe(error: BaseException) -> str:
    """The reason kept in the history: the error's own words, or its type when it has none."""
    text = str(error).strip() or type(error).__name__
    return text[:ERROR_LIMIT]
