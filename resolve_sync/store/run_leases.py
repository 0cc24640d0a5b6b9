"""One live run per connection, guaranteed by the store itself (SPEC R13), whatever started the run.

A run holds its connection's lease from start to finish. The lease is a row keyed by the connection;
taking it is a single atomic statement (insert-if-absent, or compare-and-set over a lease whose holder is
gone), so two processes racing for it cannot both win, on SQLite or PostgreSQL. The holder heartbeats; a
lease whose heartbeat is older than its time-to-live, or whose holder process on this host has died, is
reclaimed by the next run. Every write of a run checks it still holds the lease (`fence`), so a run that
lost it (paused past its lease, then woke up) cannot write over its successor.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.engine import Connection as DB

from resolve_sync.errors import RunConflict
from resolve_sync.store.database import upsert_insert
from resolve_sync.store.leases import holder_is_dead
from resolve_sync.store.models import SyncRunLease, utcnow

DEFAULT_TTL_SECONDS = 120.0


class LeaseLost(RunConflict):
    """This run no longer holds its connection's lease: another run reclaimed it. Nothing more is written."""


@dataclass(frozen=True)
class Lease:
    connection_id: int
    run_id: int
    holder: str
    acquired_at: dt.datetime
    heartbeat_at: dt.datetime


def ttl() -> dt.timedelta:
    return dt.timedelta(seconds=float(os.environ.get("RESOLVE_SYNC_RUN_LEASE_SECONDS", DEFAULT_TTL_SECONDS)))


def process_holder(label: str = "") -> str:
    """`host:pid[:label]`: a holder whose process can be seen to have died on this host."""
    return f"{socket.gethostname()}:{os.getpid()}" + (f":{label}" if label else "")


def current(db: DB | Engine, connection_id: int) -> Lease | None:
    query = select(SyncRunLease).where(SyncRunLease.connection_id == connection_id)
    if isinstance(db, Engine):
        with db.connect() as conn:
            row = conn.execute(query).first()
    else:
        row = db.execute(query).first()
    return (
        Lease(row.connection_id, row.run_id, row.holder, row.acquired_at, row.heartbeat_at) if row else None
    )


def is_stale(lease: Lease, now: dt.datetime) -> bool:
    return now - lease.heartbeat_at > ttl() or holder_is_dead(lease.holder)


def acquire(db: DB, engine: Engine, connection_id: int, run_id: int, holder: str) -> Lease | None:
    """Take the connection's lease for `run_id` in the caller's transaction. Returns None, and takes
    nothing, when a live run holds it (`current` says which)."""
    now = utcnow()
    inserted = db.execute(
        upsert_insert(engine, SyncRunLease)
        .values(connection_id=connection_id, run_id=run_id, holder=holder, acquired_at=now, heartbeat_at=now)
        .on_conflict_do_nothing(index_elements=["connection_id"])
    )
    if inserted.rowcount == 1:
        return Lease(connection_id, run_id, holder, now, now)
    held = current(db, connection_id)
    if held is None or not is_stale(held, now):
        return None
    reclaimed = db.execute(
        update(SyncRunLease)
        .where(
            SyncRunLease.connection_id == connection_id,
            SyncRunLease.run_id == held.run_id,
            SyncRunLease.heartbeat_at == held.heartbeat_at,
        )
        .values(run_id=run_id, holder=holder, acquired_at=now, heartbeat_at=now)
    )
    return Lease(connection_id, run_id, holder, now, now) if reclaimed.rowcount == 1 else None


def fence(db: DB, connection_id: int, run_id: int, holder: str | None = None) -> None:
    """Heartbeat, and prove in the caller's transaction that `run_id` still holds the lease."""
    values: dict[str, object] = {"heartbeat_at": utcnow()}
    if holder is not None:
        values["holder"] = holder
    result = db.execute(
        update(SyncRunLease)
        .where(SyncRunLease.connection_id == connection_id, SyncRunLease.run_id == run_id)
        .values(**values)
    )
    if result.rowcount != 1:
        raise LeaseLost(
            f"Sync run {run_id} no longer holds its connection: another run took it over after this one "
            "stopped heartbeating. This run stops without writing more; the other run finishes the work."
        )


def release(db: DB, connection_id: int, run_id: int) -> None:
    db.execute(
        delete(SyncRunLease).where(SyncRunLease.connection_id == connection_id, SyncRunLease.run_id == run_id)
    )


class Heartbeat:
    """Keeps a lease fresh from a background thread while a long step (a NetSuite scan) runs."""

    def __init__(self, engine: Engine, connection_id: int, run_id: int, holder: str) -> None:
        self.engine, self.connection_id, self.run_id, self.holder = engine, connection_id, run_id, holder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-heartbeat-{run_id}", daemon=True)
        self.lost = False

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        interval = max(ttl().total_seconds() / 6, 0.5)
        while not self._stop.wait(interval):
            try:
                with self.engine.begin() as db:
                    fence(db, self.connection_id, self.run_id, self.holder or None)
            except LeaseLost:
                self.lost = True
                return
            except Exception:  # a database hiccup: the next beat tries again, the TTL has room for it
                continue
