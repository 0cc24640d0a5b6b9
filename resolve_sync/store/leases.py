"""A NetSuite account's concurrency limit shared by every process through the store (SPEC R13).

Why a lease table and not Dagster concurrency pools: a pool is fixed per asset, while the limit belongs to
a NetSuite account that several connections (partitions) and the CLI may share; and the store is the one
thing every run process already reaches. A lease expires, so a SIGKILLed run frees its slots.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid

from sqlalchemy import Engine, delete, select

from resolve_sync.store.database import upsert_insert
from resolve_sync.store.models import NetSuiteRequestLease, utcnow


class LeaseSlotPool:
    """Implements `resolve_sync.netsuite.budget.SlotPool` on the store."""

    def __init__(
        self,
        engine: Engine,
        netsuite_account_id: str,
        limit: int,
        *,
        ttl_seconds: float = 300.0,
        poll_seconds: float = 0.02,
    ) -> None:
        self.engine = engine
        self.account = netsuite_account_id
        self.limit = max(1, limit)
        self.ttl = dt.timedelta(seconds=ttl_seconds)
        self.poll_seconds = poll_seconds
        self._holder_prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._insert = upsert_insert(engine, NetSuiteRequestLease)

    def acquire(self) -> object:
        holder = f"{self._holder_prefix}:{threading.get_ident()}"
        wait = self.poll_seconds
        while True:
            slot = self._try_acquire(holder)
            if slot is not None:
                return (slot, holder)
            time.sleep(wait)  # another process holds every slot; poll with a growing wait
            wait = min(wait * 1.5, 0.25)

    def _try_acquire(self, holder: str) -> int | None:
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                delete(NetSuiteRequestLease).where(
                    NetSuiteRequestLease.netsuite_account_id == self.account,
                    NetSuiteRequestLease.expires_at < now,
                )
            )
            holders = dict(
                connection.execute(
                    select(NetSuiteRequestLease.slot, NetSuiteRequestLease.holder).where(
                        NetSuiteRequestLease.netsuite_account_id == self.account
                    )
                ).all()
            )
            dead = [slot for slot, owner in holders.items() if holder_is_dead(owner)]
            if dead:
                connection.execute(
                    delete(NetSuiteRequestLease).where(
                        NetSuiteRequestLease.netsuite_account_id == self.account,
                        NetSuiteRequestLease.slot.in_(dead),
                    )
                )
            taken = set(holders) - set(dead)
            for slot in range(self.limit):
                if slot in taken:
                    continue
                result = connection.execute(
                    self._insert.values(
                        netsuite_account_id=self.account, slot=slot, holder=holder, expires_at=now + self.ttl
                    ).on_conflict_do_nothing()
                )
                if result.rowcount == 1:
                    return slot
        return None

    def release(self, slot: object) -> None:
        number, holder = slot  # type: ignore[misc]
        with self.engine.begin() as connection:
            connection.execute(
                delete(NetSuiteRequestLease).where(
                    NetSuiteRequestLease.netsuite_account_id == self.account,
                    NetSuiteRequestLease.slot == number,
                    NetSuiteRequestLease.holder == holder,
                )
            )


def holder_is_dead(holder: str) -> bool:
    """A lease of a process on this host that no longer exists (killed) can be taken over at once."""
    host, _, rest = holder.partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
