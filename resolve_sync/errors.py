"""The one exception root of the package, with a branch per kind of failure.

Callers catch by meaning: the CLI's error boundary turns any `ResolveSyncError` into a short message and a
documented exit code; Dagster steps turn it into a `Failure` whose description is the same message. Each
error carries the merchant or partition it concerns and a fix hint, so the message a person reads says
what happened, where, and the command that fixes it. Messages never contain credentials.
"""

from __future__ import annotations


class ResolveSyncError(Exception):
    """Anything resolve_sync reports on purpose. `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, merchant_id: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.merchant_id = merchant_id
        self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        text = self.message
        if self.hint and self.hint not in text:
            text = f"{text} {self.hint}"
        return text


class ConfigurationError(ResolveSyncError):
    """An operator's setting (a connection, a flag, an environment variable) is missing or wrong."""

    exit_code = 2


class StoreError(ResolveSyncError):
    """The Resolve store cannot be used as it is (not migrated, unreachable, read-only)."""

    exit_code = 3


class DataError(ResolveSyncError):
    """Data read from NetSuite or given by an operator cannot be taken as it is."""

    exit_code = 4


class RemoteError(ResolveSyncError):
    """A service we call (NetSuite, the Dagster webserver) failed or refused."""

    exit_code = 5


class RunConflict(ResolveSyncError):
    """Another run holds what this one needs (R13): it waits or is refused, never overlaps."""

    exit_code = 6
