"""The one place that makes and parses connection (partition) keys: `<merchant>|<subsidiary>`.

A single dynamic partition dimension with a composite key, not a MultiPartitionsDefinition: two dynamic
dimensions would create every merchant x subsidiary pair, most of them meaningless (SPEC §2).
"""

from __future__ import annotations

from typing import NamedTuple

from resolve_sync import validation
from resolve_sync.validation import MERCHANT_ID_RE, InvalidConnectionKey

__all__ = [
    "MERCHANT_ID_RE",
    "ConnectionKey",
    "InvalidConnectionKey",
    "make_key",
    "parse_key",
    "validate_merchant_id",
    "validate_subsidiary_id",
]

NO_SUBSIDIARY = "default"
SEPARATOR = "|"


class ConnectionKey(NamedTuple):
    merchant_id: str
    subsidiary_id: int | None

    def __str__(self) -> str:
        return make_key(self.merchant_id, self.subsidiary_id)


def validate_merchant_id(merchant_id: str) -> str:
    return validation.merchant_id(merchant_id)


def validate_subsidiary_id(subsidiary_id: object) -> int | None:
    """NetSuite internal ids are positive integers in ASCII digits; None means the connection names no
    subsidiary."""
    if subsidiary_id is None or subsidiary_id == NO_SUBSIDIARY:
        return None
    return validation.subsidiary_id(subsidiary_id)


def make_key(merchant_id: str, subsidiary_id: int | None) -> str:
    validate_merchant_id(merchant_id)
    subsidiary = validate_subsidiary_id(subsidiary_id)
    return f"{merchant_id}{SEPARATOR}{NO_SUBSIDIARY if subsidiary is None else subsidiary}"


def parse_key(key: str) -> ConnectionKey:
    merchant_id, separator, subsidiary = key.partition(SEPARATOR)
    if not separator:
        raise InvalidConnectionKey(f"Partition key {key!r} is invalid: expected '<merchant>|<subsidiary>'.")
    return ConnectionKey(validate_merchant_id(merchant_id), validate_subsidiary_id(subsidiary))
