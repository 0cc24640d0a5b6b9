"""A per-request budget for SuiteQL execution, so a runaway query cannot hold a concurrency slot for long.

NetSuite stops searches that run too long; the sandbox does the same, earlier and deterministically. SQLite
calls a progress handler every CHECK_EVERY virtual-machine steps; the handler interrupts the statement once
the request has used MAX_STEPS steps or MAX_CPU_SECONDS of this thread's CPU time (CPU, not wall time, so a
busy machine cannot make a normal query fail). Steps bound joins (a 4-way self-join stops in well under a
second); CPU time bounds what steps undercount, such as a Python SQL function called for every row.

Normal traffic is far below both: the heaviest page of a 250,000-row scan (COUNT(*) of the range plus one
1,000-row page) takes about 5 million steps and 0.25 s of CPU.
"""

from __future__ import annotations

import sqlite3
import time
from types import TracebackType

MAX_STEPS = 50_000_000
MAX_CPU_SECONDS = 2.0
# A full scan or aggregate over the largest table is legitimate at any account size (the client's
# MIN/MAX/COUNT probe over a million invoices is one), so the budget grows with the account: per row of
# its largest table, room for a few passes. A runaway join still stops, because its cost grows with a
# power of the rows, not linearly. ([U] NetSuite's own search timeout is not documented.)
STEPS_PER_ROW = 500
CPU_SECONDS_PER_ROW = 30e-6
# Each check is a call back into Python, which takes the GIL from the statement (and from the other requests'
# threads): a page of a large scan (about 5 million steps) paid 500 of them at 10,000; 50 now, still a
# small fraction of the budget between two checks.
CHECK_EVERY = 100_000


class QueryBudgetExceeded(Exception):
    """The query used its whole budget and was interrupted."""

    def __init__(self, steps: int, cpu_seconds: float) -> None:
        super().__init__(f"query stopped after {steps} steps and {cpu_seconds:.2f} s of CPU")
        self.steps = steps
        self.cpu_seconds = cpu_seconds


class QueryBudget:
    """`with QueryBudget(connection):` around every statement of one request (count, page, fetch)."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        rows: int = 0,
        max_steps: int | None = None,
        max_cpu: float | None = None,
    ) -> None:
        self.connection = connection
        # Read at call time so a test can lower the module's limits.
        self.max_steps = MAX_STEPS + STEPS_PER_ROW * rows if max_steps is None else max_steps
        self.max_cpu = MAX_CPU_SECONDS + CPU_SECONDS_PER_ROW * rows if max_cpu is None else max_cpu
        self.steps = 0
        self.exceeded = False
        self._started = 0.0

    def _progress(self) -> int:
        self.steps += CHECK_EVERY
        if self.steps >= self.max_steps or time.thread_time() - self._started >= self.max_cpu:
            self.exceeded = True
            return 1  # non-zero interrupts the running statement with OperationalError("interrupted")
        return 0

    def __enter__(self) -> QueryBudget:
        self._started = time.thread_time()
        self.connection.set_progress_handler(self._progress, CHECK_EVERY)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.connection.set_progress_handler(None, CHECK_EVERY)
        if self.exceeded and isinstance(exc, sqlite3.Error):
            raise QueryBudgetExceeded(self.steps, time.thread_time() - self._started) from None
