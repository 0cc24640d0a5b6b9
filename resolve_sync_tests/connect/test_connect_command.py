"""`resolve-sync connections connect`: a user presses "Allow access" (or "Deny") on NetSuite's page in
Chromium while the command waits; a timeout; what is stored and what is not."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from resolve_sync.store.connections import list_connections
from resolve_sync.store.database import store_engine
from resolve_sync.store.secrets import SecretBox
from resolve_sync.sync.clients import client_for
from resolve_sync.sync.steps import run_sync
from resolve_sync_tests.connect.helpers import ConnectCommand, click_in_chromium, needs_chromium
from resolve_sync_tests.sync_helpers import AS_OF, customers


@needs_chromium
@pytest.mark.parametrize(("method", "auth_kind"), [("oauth2", "oauth2_code"), ("tba", "tba")])
def test_allow_access_in_chromium_connects_and_the_first_sync_runs(sandbox, method, auth_kind) -> None:
    command = ConnectCommand(sandbox, method=method)
    url = command.authorization_url()
    landed = click_in_chromium(url, "Allow access")
    assert "You can close this tab" in landed
    command.wait_for("several subsidiaries")  # R2: the account has three; the command asks
    command.answer("2")
    code, out, err = command.finish()
    assert code == 0, err
    assert f"connected acme|2 ({auth_kind})" in out

    engine = store_engine()
    [connection] = list_connections(engine)
    assert (connection.partition_key, connection.auth_kind, connection.needs_reconnect) == (
        "acme|2",
        auth_kind,
        False,
    )
    stored = dict(SecretBox.from_environment().decrypt(connection.credentials_encrypted, owner="test"))
    # The integration's client id/secret are references to the deployment's variables, never values.
    id_key, secret_key = (
        ("client_id", "client_secret") if method == "oauth2" else ("consumer_key", "consumer_secret")
    )
    assert stored[id_key] == {"env": "RESOLVE_SYNC_NETSUITE_CLIENT_ID"}
    assert stored[secret_key] == {"env": "RESOLVE_SYNC_NETSUITE_CLIENT_SECRET"}
    user_tokens = [
        v for k, v in stored.items() if isinstance(v, str) and ("token" in k and "expires" not in k)
    ]
    assert user_tokens
    with engine.connect() as db:
        raw = "\n".join(str(r) for r in db.execute(text("SELECT * FROM merchant_connections")))
    assert not any(token in raw for token in user_tokens)  # encrypted at rest

    with client_for(connection, engine) as client:
        report = run_sync(client, engine, connection, as_of=AS_OF)
    assert report["created"] > 0 and customers(engine)


@needs_chromium
@pytest.mark.parametrize("method", ["oauth2", "tba"])
def test_deny_ends_with_a_clear_message_and_stores_nothing(sandbox, method) -> None:
    command = ConnectCommand(sandbox, method=method)
    landed = click_in_chromium(command.authorization_url(), "Deny")
    assert "Nothing was stored" in landed
    code, out, err = command.finish()
    assert code != 0
    assert err.strip().splitlines() == [
        'Error: The authorization was refused on NetSuite\'s page ("Deny"); nothing was stored.'
    ]
    assert list_connections(store_engine()) == []


def test_no_answer_within_the_timeout_stores_nothing(sandbox) -> None:
    command = ConnectCommand(sandbox, timeout=1)
    command.authorization_url()  # printed, never opened
    code, _, err = command.finish()
    assert code != 0
    assert "No answer from NetSuite's consent page within 1 seconds; nothing was stored." in err
    assert list_connections(store_engine()) == []


def test_client_credentials_come_from_the_deployment_not_the_command_line(sandbox, monkeypatch) -> None:
    from click.testing import CliRunner

    from resolve_sync.cli import cli

    monkeypatch.delenv("RESOLVE_SYNC_NETSUITE_CLIENT_ID", raising=False)
    monkeypatch.delenv("RESOLVE_SYNC_NETSUITE_CLIENT_SECRET", raising=False)
    args = ["connections", "connect", "acme", "--account", "1234567_SB1", "--base-url", sandbox.base_url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "RESOLVE_SYNC_NETSUITE_CLIENT_ID and RESOLVE_SYNC_NETSUITE_CLIENT_SECRET not set" in result.output
    remote = CliRunner().invoke(cli, [*args[:-1], "https://example.com"])
    assert remote.exit_code == 2 and "only a sandbox on this machine" in remote.output
