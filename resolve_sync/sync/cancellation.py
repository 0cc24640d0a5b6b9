"""Stopping a run on request (Ctrl-C, SIGTERM) at the next safe point, never in the middle of a write.

A signal handler only sets a flag; the run looks at it where stopping is clean: before each NetSuite
request (so a scan stops between pages), in each write batch's own transaction (so the batch rolls back
whole), and between steps. The run is then recorded `cancelled` with the reason and its lease released.
Raising `KeyboardInterrupt` from the handler instead could land inside a commit, a pool's finaliser or a
worker thread's hand-off, which is how an interrupted sync used to print `Exception ignored in …`, exit 0,
or leave `database is locked` and a run stuck `running`.
"""

from __future__ import annotations

import signal
import threading

from resolve_sync.errors import ResolveSyncError


class RunCancelled(ResolveSyncError):
    """The run was asked to stop (a signal); it stopped at a safe point and is recorded `cancelled`.
    `exit_code` is the shell's convention for the signal: 130 for SIGINT, 143 for SIGTERM."""

    exit_code = 130

    def __init__(self, message: str, *, exit_code: int = 130, merchant_id: str | None = None) -> None:
        super().__init__(message, merchant_id=merchant_id)
        self.exit_code = exit_code


class Cancellation:
    """A thread-safe stop request shared by the steps of one run and the threads that scan for it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""
        self.exit_code = 130

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, reason: str, *, exit_code: int = 130) -> None:
        if not self._event.is_set():
            self.reason, self.exit_code = reason, exit_code
            self._event.set()

    def request_for_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        self.request(f"cancelled by {name}", exit_code=128 + signum)

    def check(self, merchant_id: str | None = None) -> None:
        """Raise `RunCancelled` if a stop was requested; call only where stopping leaves nothing half-done."""
        if self._event.is_set():
            raise RunCancelled(
                f"{self.reason}: the run stopped at a safe point; what it committed stands and the next "
                "run continues from there.",
                exit_code=self.exit_code,
                merchant_id=merchant_id,
            )
