"""How many requests this process may have in flight on one NetSuite account.

Two layers. A `SlotPool` caps requests across every process that uses the account (SPEC R13): runs are
separate processes, so the default production pool is a lease table in the store
(`resolve_sync.store.leases`); Dagster concurrency pools cannot do this because a pool is static per
asset, not per NetSuite account. On top, an `AdaptiveLimit` per process shrinks on 429 (other
integrations share the account's limit) and grows back slowly: additive increase, multiplicative decrease.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Protocol


class SlotPool(Protocol):
    """A cross-process cap on in-flight requests for one NetSuite account."""

    def acquire(self) -> object: ...

    def release(self, slot: object) -> None: ...


class LocalSlotPool:
    """A pool for one process (tests, the CLI's --local runs against a private account)."""

    def __init__(self, limit: int) -> None:
        self._semaphore = threading.BoundedSemaphore(limit)

    def acquire(self) -> object:
        self._semaphore.acquire()
        return None

    def release(self, slot: object) -> None:
        self._semaphore.release()


class AdaptiveLimit:
    """AIMD window: halve on a 429, +1 after `increase_after` successes, never above `ceiling`."""

    def __init__(self, ceiling: int, *, increase_after: int = 20) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self.increase_after = increase_after
        self._in_flight = 0
        self._successes = 0
        self._condition = threading.Condition()

    @contextlib.contextmanager
    def permit(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: self._in_flight < self.limit)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._condition:
                self._in_flight -= 1
                self._condition.notify_all()

    def on_success(self) -> None:
        with self._condition:
            self._successes += 1
            if self._successes >= self.increase_after * self.limit and self.limit < self.ceiling:
                self.limit += 1
                self._successes = 0
                self._condition.notify_all()

    def on_throttled(self) -> None:
        with self._condition:
            self.limit = max(1, self.limit // 2)
            self._successes = 0


class ConcurrencyBudget:
    """Both layers together: a request runs holding a local permit and a shared slot."""

    def __init__(self, limit: int, pool: SlotPool | None = None) -> None:
        self.adaptive = AdaptiveLimit(limit)
        self.pool = pool or LocalSlotPool(limit)

    @property
    def limit(self) -> int:
        return self.adaptive.ceiling

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self.adaptive.permit():
            slot = self.pool.acquire()
            try:
                yield
            finally:
                self.pool.release(slot)
