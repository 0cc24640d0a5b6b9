"""Errors that stop a sync before anything is written; each names the merchant, the cause and the fix."""

from __future__ import annotations


class SyncConfigError(RuntimeError):
    """The connection's settings do not fit the NetSuite account."""


class SubsidiaryRequired(SyncConfigError):
    """R2: the account has several subsidiaries and the connection names none (or a wrong one)."""


class FilterFieldInvalid(SyncConfigError):
    """R11: the filter field does not exist, is not a checkbox, or does not apply to customers."""

    def __init__(self, merchant_id: str, field_id: str, reason: str) -> None:
        super().__init__(
            f"Merchant {merchant_id!r}: filter field {field_id!r} is invalid: {reason}. Nothing was synced. Fix it "
            f"with `resolve-sync connections set-filter {merchant_id} FIELD_ID` (a customer checkbox field) or "
            f"`resolve-sync connections clear-filter {merchant_id}`."
        )
        self.merchant_id, self.field_id, self.reason = merchant_id, field_id, reason


class DuplicatesFound(SyncConfigError):
    """R12: the sync would create duplicate customers; an operator must link them or mark them distinct."""


class StoreUnavailable(RuntimeError):
    """The Resolve store went away during a run. Batches already committed stand; the re-run finishes."""
