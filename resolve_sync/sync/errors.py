"""Errors a sync reports on purpose; each names the merchant, the cause and the command that fixes it."""

from __future__ import annotations

from resolve_sync.errors import ConfigurationError, DataError, RunConflict, StoreError


class SyncConfigError(ConfigurationError):
    """The connection's settings do not fit the NetSuite account."""


class SubsidiaryRequired(SyncConfigError):
    """R2: the account has several subsidiaries and the connection names none (or a wrong one)."""


class FilterFieldInvalid(SyncConfigError):
    """R11: the filter field does not exist, is not a checkbox, or does not apply to customers."""

    def __init__(self, merchant_id: str, field_id: str, reason: str, *, subsidiary_option: str = "") -> None:
        super().__init__(
            f"Merchant {merchant_id!r}: filter field {field_id!r} is invalid: {reason}. Nothing was synced. Fix it "
            f"with `resolve-sync connections set-filter {merchant_id}{subsidiary_option} FIELD_ID` (a customer "
            f"checkbox field) or `resolve-sync connections clear-filter {merchant_id}{subsidiary_option}`.",
            merchant_id=merchant_id,
        )
        self.field_id, self.reason = field_id, reason


class DuplicatesFound(DataError):
    """R12: the sync would create duplicate customers; an operator must link them or mark them distinct."""


class StoreUnavailable(StoreError):
    """The Resolve store went away during a run. Batches already committed stand; the re-run finishes."""


class RunAlreadyActive(RunConflict):
    """R13: another run of the same connection is live; this one is refused rather than overlap it."""
