"""Staged invoice ids handed from the thread that reads them to the thread that writes them.

A full run in one process (`steps.stage_and_write`) writes each batch of invoices as soon as it is staged
rather than after the whole read: NetSuite's pages arrive at the governance bound while the store takes the
writes. The queue is bounded, so a writer slower than NetSuite holds back the reader (memory stays flat
whatever the account's size), and a writer that stopped (a failure, R12's block) never leaves the reader
waiting.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

_END = None
# How long a reader facing a full queue waits before looking again whether the writer stopped.
_RECHECK_SECONDS = 0.2


class StagedBatches:
    """Batches of NetSuite ids, in the order they were staged; iterate to take them until the reader ends."""

    def __init__(self, capacity: int = 32) -> None:
        self._queue: queue.Queue[list[str] | None] = queue.Queue(capacity)
        self._writer_stopped = threading.Event()

    def put(self, ids: list[str]) -> None:
        """Reader: one staged batch. Dropped once the writer stopped (the run is failing, or blocked)."""
        self._hand(list(ids))

    def end(self) -> None:
        """Reader: nothing more comes (also after a failure)."""
        self._hand(_END)

    def stop(self) -> None:
        """Writer: it takes nothing more."""
        self._writer_stopped.set()

    def _hand(self, item: list[str] | None) -> None:
        while not self._writer_stopped.is_set():
            try:
                self._queue.put(item, timeout=_RECHECK_SECONDS)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[list[str]]:
        while (ids := self._queue.get()) is not _END:
            yield ids
