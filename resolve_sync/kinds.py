"""The closed sets of values the code branches on, as enums instead of bare strings.

They are `StrEnum`s so that the values stored in the database and shown to users stay the plain words they
always were (`created`, `full`, `tba`), while the code can no longer misspell one.
"""

from __future__ import annotations

from enum import StrEnum


class RecordKind(StrEnum):
    CUSTOMER = "customer"
    INVOICE = "invoice"


class Outcome(StrEnum):
    """What one run did to one NetSuite record (SPEC §4)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FROZEN = "frozen"  # R8: financed in Resolve, NetSuite's change kept as drift
    HELD_BACK = "held_back"  # R5, R12: cannot be written yet, with the reason
    INVALID = "invalid"  # §4: cannot be stored exactly, with the reason
    SKIPPED = "skipped"  # R9, R10: out of the filter's scope, left as it is

    @property
    def writes(self) -> bool:
        return self in (Outcome.CREATED, Outcome.UPDATED)


class ArchiveChange(StrEnum):
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"


class RunMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    REJECTED = "rejected"  # refused before extraction (R2, R11, auth, …): kept in the history with the reason


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AuthKind(StrEnum):
    TBA = "tba"  # token-based auth: pasted tokens, or a user's "Allow access" (`connections connect`)
    OAUTH2_M2M = "oauth2_m2m"  # client credentials with a certificate
    OAUTH2_CODE = "oauth2_code"  # authorization code: a user's "Allow access", tokens that renew


class ConnectMethod(StrEnum):
    """How `connections connect` asks NetSuite for access, and the auth kind the connection then has."""

    TBA = "tba"
    OAUTH2 = "oauth2"

    @property
    def auth_kind(self) -> AuthKind:
        return AuthKind.TBA if self is ConnectMethod.TBA else AuthKind.OAUTH2_CODE


class Resolution(StrEnum):
    """An operator's answer to a suspected duplicate pair (R12)."""

    LINKED = "linked"
    DISTINCT = "distinct"


class Stream(StrEnum):
    CUSTOMERS = "customers"
    INVOICES = "invoices"
