"""The one place that makes and parses connection (partition) keys: `<merchant>|<subsidiary>`.

A single dynamic partition dimension with a composite key, not a MultiPartitionsDefinition: two dynamic
dimensions would create every merchant x subsidiary pair, most of them meaningless (SPEC §2).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from resolve_sync.errors import ConfigurationError

MERCHANT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
NO_SUBSIDIARY = "default"
SEPARATOR = "|"


class InvalidConnectionKey(ConfigurationError, ValueError):
    """A merchant id, subsidiary id or partition key that does not have the documented shape."""


class ConnectionKey(NamedTuple):
    merchant_id: str
    subsidiary_id: int | None

    def __str__(self) -> str:
        return make_key(self.merchant_id, self.subsidiary_id)


def validate_merchant_id(merchant_id: str) -> str:
    if not isinstance(merchant_id, str) or not MERCHANT_ID_RE.fullmatch(merchant_id):
        raise InvalidConnectionKey(
            f"Merchant id {merchant_id!r} is invalid: use 1-63 lower-case letters, digits, '_' or '-', "
            "starting with a letter or digit (e.g. 'acme' or 'acme-eu')."
        )
    return merchant_id


def validate_subsidiary_id(subsidiary_id: object) -> int | None:
    """NetSuite internal ids are positive integers; None means the connection names no subsidiary."""
    if subsidiary_id is None or subsidiary_id == NO_SUBSIDIARY:
        return None
    text = str(subsidiary_id).strip()
    if not text.isdigit() or int(text) <= 0:
        raise InvalidConnectionKey(
            f"Subsidiary id {subsidiary_id!r} is invalid: use the subsidiary's NetSuite internal id, "
            "a positive integer (`resolve-sync subsidiaries MERCHANT` lists them)."
        )
    return int(text)


def make_key(merchant_id: str, subsidiary_id: int | None) -> str:
    validate_merchant_id(merchant_id)
    subsidiary = validate_subsidiary_id(subsidiary_id)
    return f"{merchant_id}{SEPARATOR}{NO_SUBSIDIARY if subsidiary is None else subsidiary}"


def parse_key(key: str) -> ConnectionKey:
    merchant_id, separator, subsidiary = key.partition(SEPARATOR)
    if not separator:
        raise InvalidConnectionKey(f"Partition key {key!r} is invalid: expected '<merchant>|<subsidiary>'.")
    return ConnectionKey(validate_merchant_id(merchant_id), validate_subsidiary_id(subsidiary))
