"""Credentials are encrypted at rest, rotate without loss, and never show in a repr or the database."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import Engine, text

from resolve_sync.store.connections import (
    add_connection,
    get_connection,
    list_connections,
    rotate_credentials,
)
from resolve_sync.store.secrets import Credentials, SecretBox, SecretKeyError, generate_key

CANARY = "canary-9f1c2e-DO-NOT-LEAK"
TBA = {
    "consumer_key": "ck-visible-id",
    "consumer_secret": CANARY,
    "token_id": "tid",
    "token_secret": CANARY + "2",
}


def _add(store: Engine, box: SecretBox, credentials=TBA):
    return add_connection(
        store,
        box,
        merchant_id="acme",
        netsuite_account_id="1234567_SB1",
        auth_kind="tba",
        credentials=credentials,
        subsidiary_id=3,
    )


def test_credentials_round_trip(store: Engine) -> None:
    box = SecretBox([generate_key().encode()])
    connection = _add(store, box)
    assert dict(get_connection(store, "acme|3").credentials(box)) == TBA
    assert connection.partition_key == "acme|3"


def test_secrets_never_appear_in_reprs(store: Engine) -> None:
    box = SecretBox([generate_key().encode()])
    connection = _add(store, box)
    credentials = connection.credentials(box)
    for shown in (
        repr(connection),
        str(connection),
        repr(credentials),
        str(credentials),
        repr(list_connections(store)),
    ):
        assert CANARY not in shown
    assert "consumer_secret=<hidden>" in repr(credentials)


def test_credentials_refuse_to_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Credentials({"token_secret": CANARY}))


def test_secrets_are_not_in_the_database_in_clear_text(store: Engine) -> None:
    _add(store, SecretBox([generate_key().encode()]))
    with store.connect() as connection:
        stored = " ".join(
            str(v) for row in connection.execute(text("SELECT * FROM merchant_connections")) for v in row
        )
    assert CANARY not in stored
    if store.dialect.name == "sqlite":
        store.dispose()  # flush WAL into the file before reading raw bytes
        raw = open(store.url.database, "rb").read()  # noqa: SIM115
        assert CANARY.encode() not in raw


def test_key_rotation_keeps_every_connection(store: Engine) -> None:
    old, new = generate_key().encode(), generate_key().encode()
    _add(store, SecretBox([old]))
    assert rotate_credentials(store, SecretBox([new, old])) == 1
    # After rotation the old key can be dropped.
    assert dict(get_connection(store, "acme|3").credentials(SecretBox([new]))) == TBA


def test_wrong_key_names_the_merchant_the_key_source_and_the_fix(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(store, SecretBox([generate_key().encode()]))
    monkeypatch.setenv("RESOLVE_SYNC_SECRET_KEY", generate_key())
    with pytest.raises(SecretKeyError) as raised:
        get_connection(store, "acme|3").credentials(SecretBox.from_environment())
    assert "acme" in str(raised.value) and "the variable RESOLVE_SYNC_SECRET_KEY" in str(raised.value)


def test_environment_references_resolve_at_use(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    box = SecretBox([generate_key().encode()])
    _add(store, box, {**TBA, "token_secret": {"env": "ACME_NS_TOKEN_SECRET"}})
    with pytest.raises(SecretKeyError, match="ACME_NS_TOKEN_SECRET"):
        get_connection(store, "acme|3").credentials(box)
    monkeypatch.setenv("ACME_NS_TOKEN_SECRET", CANARY)
    assert get_connection(store, "acme|3").credentials(box)["token_secret"] == CANARY


def test_local_key_is_generated_private(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVE_SYNC_STATE_DIR", str(tmp_path))
    box = SecretBox.from_environment()
    mode = stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode)
    assert mode == 0o600
    assert SecretBox.from_environment().decrypt(box.encrypt(TBA), owner="x") == TBA


def test_malformed_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVE_SYNC_SECRET_KEY", "not-a-key")
    with pytest.raises(SecretKeyError, match="generate-key"):
        SecretBox.from_environment()
