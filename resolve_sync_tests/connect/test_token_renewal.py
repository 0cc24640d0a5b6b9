"""OAuth 2.0 tokens renew themselves: before expiry and when NetSuite refuses one mid-run, once for all
concurrent runs of a connection, stored encrypted; an expired or revoked refresh token flags the connection
`needs_reconnect`, the run fails with one line naming the merchant and the `connect` command, the WARN
check lists it, and after `connect` again the next run succeeds with nothing synced before lost."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text

from resolve_sync.defs.reconnect_check import connections_to_reconnect
from resolve_sync.netsuite import oauth2_tokens
from resolve_sync.netsuite.queries import ACTIVE_SUBSIDIARIES
from resolve_sync.store.authorizations import ReconnectNeeded
from resolve_sync.store.connections import get_connection
from resolve_sync.store.database import store_engine
from resolve_sync.store.models import utcnow
from resolve_sync.store.run_history import last_success
from resolve_sync.store.secrets import SecretBox
from resolve_sync.sync.clients import client_for
from resolve_sync.sync.steps import run_sync
from resolve_sync_tests.connect.helpers import ConnectCommand, press_on_consent_page
from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import AS_OF, snapshot


def allow_access(sandbox, *, expect: str = "connected acme|2") -> None:
    command = ConnectCommand(sandbox)
    press_on_consent_page(command.authorization_url())
    command.answer("2")  # the subsidiary, if asked (a reconnect does not ask)
    code, out, err = command.finish()
    assert code == 0, err
    assert expect in out


def advance_clock(sandbox, seconds: float) -> None:
    with admin(sandbox.base_url) as api:
        assert api.post("/_sandbox/clock", json={"advance_seconds": seconds}).status_code == 200


def authorizations(sandbox) -> dict:
    with admin(sandbox.base_url) as api:
        return api.get("/_sandbox/authorizations").json()


def stored_tokens(engine, partition_key: str):
    connection = get_connection(engine, partition_key)
    with engine.connect() as db:
        version = db.execute(
            text("SELECT credentials_version FROM merchant_connections WHERE id = :i"), {"i": connection.id}
        ).scalar_one()
    return version, connection.credentials(SecretBox.from_environment())


def test_a_token_that_expires_during_a_long_run_is_renewed_once_and_stored_encrypted(sandbox) -> None:
    allow_access(sandbox)
    engine = store_engine()
    connection = get_connection(engine, "acme|2")
    version_before, before = stored_tokens(engine, "acme|2")
    with admin(sandbox.base_url) as api:  # a slow account: every request takes 300 ms
        assert api.put("/_sandbox/latency", json={"per_request_ms": 300}).status_code == 200
    outcome: dict = {}

    def long_run() -> None:
        with client_for(connection, engine) as client:
            outcome["report"] = run_sync(client, engine, connection, as_of=AS_OF)

    run = threading.Thread(target=long_run)
    run.start()
    deadline = time.monotonic() + 30
    # After the run's first answer (its subsidiary check and early probes go out together): both record
    # kinds' pages, read at once, are still to come.
    while sandbox.sandbox.stats.requests.get(("/services/rest/query/v1/suiteql", 200), 0) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    advance_clock(sandbox, 2 * 3600)  # mid-run, the hour-long access token expires on NetSuite's side
    run.join(timeout=120)

    assert outcome["report"]["created"] > 0
    assert authorizations(sandbox)["refreshes"] == 1
    version_after, after = stored_tokens(engine, "acme|2")
    assert version_after == version_before + 1
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]  # NetSuite keeps the refresh token
    with engine.connect() as db:
        raw = db.execute(text("SELECT credentials_encrypted FROM merchant_connections")).scalar_one()
    assert after["access_token"] not in raw


def test_a_token_about_to_expire_is_renewed_before_it_is_used(sandbox) -> None:
    allow_access(sandbox)
    engine = store_engine()
    with engine.begin() as db:  # the stored access token has two minutes left (renewal starts at five)
        connection = get_connection(engine, "acme|2")
        box = SecretBox.from_environment()
        stored = box.decrypt(connection.credentials_encrypted, owner="test")
        stored["access_token_expires_at"] = f"{time.time() + 120:.0f}"
        db.execute(
            text("UPDATE merchant_connections SET credentials_encrypted = :c WHERE id = :i"),
            {"c": box.encrypt(stored), "i": connection.id},
        )
    with client_for(get_connection(engine, "acme|2"), engine) as client:
        client.suiteql_all(ACTIVE_SUBSIDIARIES)
    assert authorizations(sandbox)["refreshes"] == 1
    assert sandbox.sandbox.stats.auth_failures == {}  # renewed before, not after a 401


def test_concurrent_runs_of_one_connection_refresh_once(sandbox) -> None:
    allow_access(sandbox)
    engine = store_engine()
    connection = get_connection(engine, "acme|2")
    advance_clock(sandbox, 2 * 3600)
    clients = [client_for(connection, engine) for _ in range(4)]  # four runs, four keepers, one store
    start = threading.Barrier(len(clients))
    results: list = []

    def query(client) -> None:
        start.wait()
        results.append(client.suiteql_all(ACTIVE_SUBSIDIARIES))

    threads = [threading.Thread(target=query, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for client in clients:
        client.close()
    assert len(results) == 4
    assert authorizations(sandbox)["refreshes"] == 1


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_a_refused_refresh_token_needs_reconnect_then_connect_again_loses_nothing(sandbox, how) -> None:
    allow_access(sandbox)
    engine = store_engine()
    connection = get_connection(engine, "acme|2")
    with client_for(connection, engine) as client:
        first = run_sync(client, engine, connection, as_of=AS_OF)
    assert first["created"] > 0
    synced = snapshot(engine)

    if how == "expired":
        advance_clock(sandbox, 8 * 24 * 3600)  # past the refresh token's seven days
    else:
        with admin(sandbox.base_url) as api:
            assert (
                api.post("/_sandbox/authorizations/revoke", json={}).json()["revoked"]["oauth2_grants"] == 1
            )

    with client_for(connection, engine) as client, pytest.raises(ReconnectNeeded) as failed:
        run_sync(client, engine, connection, as_of=AS_OF)
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("Merchant 'acme' (acme|2) must reconnect NetSuite account 1234567_SB1")
    assert (
        f"resolve-sync connections connect acme --account 1234567_SB1 --base-url {sandbox.base_url}"
        in message
    )
    assert failed.value.exit_code == 2

    flagged = get_connection(engine, "acme|2")
    assert flagged.needs_reconnect and "invalid_grant" in (flagged.reconnect_reason or "")
    assert "acme|2" in connections_to_reconnect([flagged], utcnow())  # the WARN check lists it
    refused = authorizations(sandbox)["invalid_grants"]
    with client_for(flagged, engine) as client, pytest.raises(ReconnectNeeded):
        run_sync(client, engine, flagged, as_of=AS_OF)  # later runs fail at once, without asking NetSuite
    assert authorizations(sandbox)["invalid_grants"] == refused

    allow_access(sandbox, expect="reconnected acme|2 (oauth2_code)")
    again = get_connection(engine, "acme|2")
    assert (again.id, again.needs_reconnect, again.reconnect_reason) == (connection.id, False, None)
    assert connections_to_reconnect([again], utcnow()) == {}
    with client_for(again, engine) as client:
        second = run_sync(client, engine, again, as_of=AS_OF)
    assert second["created"] == 0  # the cursor and the links survived the reconnect
    assert snapshot(engine) == synced
    assert last_success(engine, [again.id])


def test_the_check_warns_before_the_authorization_runs_out(sandbox) -> None:
    allow_access(sandbox)
    engine = store_engine()
    connection = get_connection(engine, "acme|2")
    assert connection.authorization_expires_at is not None
    assert connections_to_reconnect([connection], utcnow()) == {}
    in_six_days = connection.authorization_expires_at - dt.timedelta(days=1)
    warning = connections_to_reconnect([connection], in_six_days)["acme|2"]
    assert "runs out at" in warning and "resolve-sync connections connect acme" in warning
    assert oauth2_tokens(connection.credentials(SecretBox.from_environment())).refresh_expires_at
