"""Ctrl-C and SIGTERM stop a `sync --local` at a safe point, recorded `cancelled`; and every attempt, also
one refused before extraction, is in the run history with its reason. Through the CLI as a child process
against the sandbox over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from resolve_sync_tests.cli_process import cli, local_store, refused, run_history
from resolve_sync_tests.sandbox_helpers import admin, cli_connection_args
from resolve_sync_tests.sync_helpers import medium_account, snapshot

SLOW = medium_account(1_500, 6_000, latency={"per_request_ms": 700})
SYNC = ("sync", "acme", "--local", "--as-of", "2026-11-26")


def _wait_until_running(store, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not [r for r in run_history(store) if r.status == "running"]:
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.sandbox_fixture(SLOW)
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_at_a_safe_point_and_the_next_run_completes(sandbox_server, sig, code) -> None:
    assert cli(*cli_connection_args(sandbox_server)).returncode == 0
    store = local_store()
    child = subprocess.Popen(
        [sys.executable, "-m", "resolve_sync.cli", *SYNC],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_until_running(store, child)
    time.sleep(1.5)  # mid-extraction: pages are being read
    child.send_signal(sig)
    out, err = child.communicate(timeout=120)
    assert child.returncode == code, err
    assert f"cancelled by {sig.name}" in err
    assert "Traceback" not in err and "Exception ignored" not in err and "database is locked" not in err
    cancelled = run_history(store)[-1]
    assert cancelled.status == "cancelled" and f"cancelled by {sig.name}" in cancelled.error
    assert cancelled.finished_at is not None
    with store.connect() as db:
        assert db.scalar(text("SELECT count(*) FROM sync_run_leases")) == 0  # the lease is released

    again = cli(*SYNC)  # the next run proceeds normally and ends where an uninterrupted one does
    assert again.returncode == 0, again.stderr
    assert [r.status for r in run_history(store)] == ["cancelled", "succeeded"]
    interrupted_end = snapshot(store)
    with store.begin() as db:
        for table in (
            "netsuite_invoice_links",
            "netsuite_customer_links",
            "resolve_invoices",
            "resolve_customers",
            "sync_record_outcomes",
            "netsuite_staged_invoices",
            "netsuite_staged_customers",
            "sync_cursors",
        ):
            db.execute(text(f"DELETE FROM {table}"))
    admin(sandbox_server.base_url).put("/_sandbox/latency", json={"per_request_ms": 0})
    assert cli(*SYNC).returncode == 0
    assert snapshot(store) == interrupted_end
    assert len(interrupted_end["customers"]) == 1_500


@pytest.mark.sandbox_fixture(medium_account(20, 20))
def test_every_refused_attempt_is_in_the_run_history_with_its_reason(sandbox_server) -> None:
    args = cli_connection_args(sandbox_server)
    assert cli(*args).returncode == 0
    store = local_store()

    def attempt(*phrases: str) -> str:
        refused(cli(*SYNC), *phrases)
        last = run_history(store)[-1]
        assert last.status == "failed" and last.mode == "rejected", last
        assert all(p in last.error for p in phrases), last.error
        return last.error

    # invalid filter field (R11)
    with store.begin() as db:
        db.execute(text("UPDATE merchant_connections SET filter_field_id = 'custentity_region'"))
    attempt("custentity_region", "not a checkbox")
    with store.begin() as db:
        db.execute(text("UPDATE merchant_connections SET filter_field_id = NULL"))

    # subsidiary ambiguity (R2): a connection added offline without one
    at = args.index("--subsidiary")
    assert cli(*["connections", "add", "globex", *args[3:at], *args[at + 2 :]], "--no-verify").returncode == 0
    refused(cli("sync", "globex", "--local"), "has 3 subsidiaries")
    assert "Choices" in run_history(store)[-1].error

    # another run holding the connection (R13)
    with store.begin() as db:
        connection_id = db.scalar(text("SELECT id FROM merchant_connections WHERE merchant_id = 'acme'"))
        db.execute(
            text(
                "INSERT INTO sync_runs (connection_id, merchant_id, mode, as_of, status, started_at, counts, "
                "pending_cursors) VALUES (:c, 'acme', 'full', '2026-11-26', 'running', CURRENT_TIMESTAMP, '{}', '{}')"
            ),
            {"c": connection_id},
        )
        run_id = db.scalar(text("SELECT max(id) FROM sync_runs"))
        db.execute(
            text(
                "INSERT INTO sync_run_leases (connection_id, run_id, holder, acquired_at, heartbeat_at) "
                "VALUES (:c, :r, 'elsewhere:1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"c": connection_id, "r": run_id},
        )
    attempt("is still running")
    with store.begin() as db:
        db.execute(text("DELETE FROM sync_run_leases"))
        db.execute(text("UPDATE sync_runs SET status = 'failed' WHERE status = 'running'"))

    # authentication failure: the token was revoked in NetSuite (the stored secret is now wrong)
    bad = cli_connection_args(sandbox_server, "initech", credentials={**_tba(), "token_secret": "revoked"})
    assert cli(*bad, "--no-verify").returncode == 0
    refused(cli("sync", "initech", "--local"))
    assert run_history(store)[-1].mode == "rejected" and "INVALID_LOGIN" in run_history(store)[-1].error

    assert cli(*SYNC).returncode == 0  # and a good attempt after all of them


def _tba() -> dict[str, str]:
    from resolve_sync_tests.sandbox_helpers import TBA

    return dict(TBA)
