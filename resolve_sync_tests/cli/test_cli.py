"""The `resolve-sync` commands as an operator types them (each in its own process, as from a shell),
against the sandbox and the local store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from resolve_sync_tests.cli.process import run
from resolve_sync_tests.sandbox_helpers import TBA, cli_connection_args
from resolve_sync_tests.sync_helpers import FILTER, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


@pytest.fixture
def acme(sandbox_server) -> str:
    run(*cli_connection_args(sandbox_server))
    return "acme"


def test_connections_are_managed_without_showing_secrets(acme) -> None:
    listed = run("connections", "list")
    assert "acme|2" in listed and TBA["consumer_secret"] not in listed and TBA["token_secret"] not in listed
    shown = json.loads(run("connections", "show", "acme", "--json"))
    assert shown[0]["filter_field_id"] is None and "credentials" not in json.dumps(shown)
    assert "custentity" in run("connections", "set-filter", "acme", "custbody_x", ok=False)
    run("connections", "set-filter", "acme", FILTER)
    assert json.loads(run("connections", "show", "acme", "--json"))[0]["filter_field_id"] == FILTER
    run("connections", "clear-filter", "acme")
    run("connections", "disable", "acme")
    assert json.loads(run("connections", "show", "acme", "--json"))[0]["enabled"] is False
    run("connections", "enable", "acme")


def test_a_field_id_aimed_at_injection_is_refused(acme) -> None:
    output = run("connections", "set-filter", "acme", "custentity_x' OR '1'='1", ok=False)
    assert "custentity" in output


def test_subsidiaries_and_accounts_are_read_live_and_only_chosen_ids_are_stored(acme) -> None:
    assert "Canada" in run("subsidiaries", "acme") and "Elimination" not in run("subsidiaries", "acme")
    accounts = run("accounts", "acme")
    assert "1100 Accounts Receivable" in accounts
    run("bookkeeping", "set", "acme", "--account", "receivable=1")
    assert json.loads(run("connections", "show", "acme", "--json"))[0]["bookkeeping_account_ids"] == {
        "receivable": "1"
    }
    refused = run("bookkeeping", "set", "acme", "--account", "fees=2", ok=False)  # account 2 is Canada's only
    assert "not active accounts of subsidiary 2" in refused


def test_local_sync_status_and_a_failing_sync_exit_code(acme) -> None:
    output = run("sync", "acme", "--local", "--as-of", "2026-11-26")
    assert "full sync succeeded" in output and "customers: read" in output and "invoices: read" in output
    assert "succeeded" in run("status", "--merchant", "acme")
    refused = run("connections", "set-filter", "acme", "custentity_region", ok=False)  # checked live
    assert "not a checkbox" in refused and "--no-verify" in refused
    run("connections", "set-filter", "acme", "custentity_region", "--no-verify")
    failed = run("sync", "acme", "--local", ok=False)
    assert "custentity_region" in failed and "not a checkbox" in failed


def test_duplicates_are_listed_and_resolved_from_the_cli(acme, sandbox_server) -> None:
    from resolve_sync_tests.sandbox_helpers import admin

    admin(sandbox_server.base_url).post(
        "/_sandbox/records/customers",
        json={
            "records": [
                {
                    "id": 60,
                    "entityid": "C60",
                    "companyname": "ACME, Inc.",
                    "email": "other@acme.test",
                    "subsidiary": 2,
                    "custom": {FILTER: True},
                }
            ]
        },
    )
    failed = run("sync", "acme", "--local", ok=False)
    assert "netsuite:60" in failed
    assert "netsuite:10" in run("duplicates", "list", "acme")
    run("duplicates", "distinct", "acme", "netsuite:60", "netsuite:10")
    assert "no unresolved duplicates" in run("duplicates", "list", "acme")
    run("sync", "acme", "--local")
    assert "no open drift" in run("drift", "list", "acme")


def test_secrets_rotate_keeps_every_connection_usable(acme, monkeypatch) -> None:
    from resolve_sync.store.secrets import generate_key

    old = (Path(os.environ["RESOLVE_SYNC_STATE_DIR"]) / "secret.key").read_text().strip()
    new = generate_key()
    monkeypatch.setenv("RESOLVE_SYNC_SECRET_KEY", f"{new},{old}")
    assert "re-encrypted the credentials of 1 connection" in run("secrets", "rotate")
    monkeypatch.setenv("RESOLVE_SYNC_SECRET_KEY", new)  # the old key is retired
    assert "sync succeeded" in run("sync", "acme", "--local", "--as-of", "2026-11-26")
