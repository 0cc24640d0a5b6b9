"""SPEC §2: one helper makes and parses `<merchant>|<subsidiary>` keys and refuses malformed parts."""

from __future__ import annotations

import pytest

from resolve_sync.connection_keys import ConnectionKey, InvalidConnectionKey, make_key, parse_key


@pytest.mark.parametrize(
    ("merchant", "subsidiary", "key"), [("acme", 3, "acme|3"), ("acme-eu_2", None, "acme-eu_2|default")]
)
def test_keys_round_trip(merchant: str, subsidiary: int | None, key: str) -> None:
    assert make_key(merchant, subsidiary) == key
    assert parse_key(key) == ConnectionKey(merchant, subsidiary)


@pytest.mark.parametrize("merchant", ["", "Acme", "-acme", "acme|1", "a" * 64, "acme corp", "acmé"])
def test_malformed_merchant_ids_are_refused(merchant: str) -> None:
    with pytest.raises(InvalidConnectionKey, match="Merchant id"):
        make_key(merchant, 1)


@pytest.mark.parametrize("subsidiary", ["x", "1.5", "-1", "0", "1; DROP TABLE customer"])
def test_subsidiary_ids_must_be_positive_integers(subsidiary: str) -> None:
    with pytest.raises(InvalidConnectionKey, match="Subsidiary id"):
        make_key("acme", subsidiary)  # type: ignore[arg-type]
    with pytest.raises(InvalidConnectionKey):
        parse_key(f"acme|{subsidiary}")
