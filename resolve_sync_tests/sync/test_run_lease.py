"""R13: one run per connection at a time, guaranteed by the store itself, whatever started the runs."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from resolve_sync.kinds import RunStatus
from resolve_sync.store import run_leases
from resolve_sync.store.models import SyncRun, SyncRunLease
from resolve_sync.sync.errors import RunAlreadyActive
from resolve_sync.sync.ledger import fail_run, start_run
from resolve_sync_tests.sync_helpers import (
    AS_OF,
    connect,
    customers,
    invoices,
    medium_account,
    snapshot,
    sync,
    sync_fixture,
)

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def _start(store, connection, **kwargs):
    return start_run(store, connection, as_of=AS_OF, full_refresh=False, subsidiary_id=2, **kwargs)


def _runs(store) -> list:
    with store.connect() as db:
        return list(db.execute(select(SyncRun.id, SyncRun.status, SyncRun.error).order_by(SyncRun.id)))


def test_r13_a_second_run_of_a_live_connection_is_refused_naming_the_running_one(
    store, sandbox_server
) -> None:
    connection = connect(store, sandbox_server)
    first = _start(store, connection, dagster_run_id="abc123")
    with pytest.raises(RunAlreadyActive) as refused:
        _start(store, connection)
    message = str(refused.value)
    assert f"sync run {first.run_id} (Dagster run abc123) of acme|2 is still running" in message
    assert [r.status for r in _runs(store)] == [RunStatus.RUNNING]  # the refused attempt left no run behind
    fail_run(store, first.run_id, RuntimeError("stopped"))
    assert _start(store, connection).run_id > first.run_id  # released: the next run may start


def test_r13_a_lease_whose_process_died_is_reclaimed_at_once(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    holder = f"{os.uname().nodename}:{dead.stdout.strip()}"
    orphan = _start(store, connection, holder=holder)
    successor = _start(store, connection)
    statuses = {r.id: (r.status, r.error) for r in _runs(store)}
    assert statuses[orphan.run_id][0] == RunStatus.FAILED and "interrupted" in statuses[orphan.run_id][1]
    assert statuses[successor.run_id][0] == RunStatus.RUNNING


def test_r13_a_lease_without_heartbeat_past_its_ttl_is_reclaimed_and_the_old_run_cannot_write(
    store, sandbox_server
) -> None:
    connection = connect(store, sandbox_server)
    stalled = _start(store, connection, holder="elsewhere:1")  # another host: only the TTL can free it
    with pytest.raises(RunAlreadyActive):
        _start(store, connection)
    with store.begin() as db:
        db.execute(update(SyncRunLease).values(heartbeat_at=run_leases.utcnow() - dt.timedelta(seconds=600)))
    _start(store, connection)
    with pytest.raises(run_leases.LeaseLost), store.begin() as db:
        run_leases.fence(db, connection.id, stalled.run_id)


@pytest.mark.slow
@pytest.mark.sandbox_fixture(medium_account(1_500, 8_000, latency={"per_request_ms": 1500}))
def test_r13_two_local_syncs_of_one_connection_at_once_lose_nothing(
    sandbox_server, tmp_path: Path, store
) -> None:
    """Two `resolve-sync sync --local` of the same partition: one runs, the other is refused with a message
    naming it; nothing is lost, and the history never shows a succeeded run with an error."""
    if store.dialect.name == "sqlite":
        url = str(store.url)
    else:
        url = store.url.render_as_string(hide_password=False)
    connection = connect(
        store, sandbox_server, concurrency_limit=2
    )  # slow requests, two at a time: a long run
    env = {
        **os.environ,
        "RESOLVE_SYNC_DATABASE_URL": url,
        "RESOLVE_SYNC_SECRET_KEY": os.environ.get("RESOLVE_SYNC_SECRET_KEY") or _key_of(store),
    }
    command = [sys.executable, "-m", "resolve_sync.cli", "sync", "acme", "--local", "--as-of", "2026-11-26"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not [r for r in _runs(store) if r.status == RunStatus.RUNNING]:  # the first run holds the lease
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode != 0
    assert "is still running" in second.stderr and "acme|2" in second.stderr
    assert "Traceback" not in second.stderr
    assert len(customers(store)) == 1_500 and len(invoices(store)) == 8_000
    history = _runs(store)
    assert [r.status for r in history if r.status == RunStatus.SUCCEEDED] == [RunStatus.SUCCEEDED]
    assert all(r.error is None for r in history if r.status == RunStatus.SUCCEEDED)
    before = snapshot(store)
    sync(store, sandbox_server, connection)  # and a later incremental run has nothing left to recover
    assert snapshot(store) == before


def _key_of(store) -> str:
    """The state folder's generated key, which `connect` used to encrypt the credentials."""
    return (Path(os.environ["RESOLVE_SYNC_STATE_DIR"]) / "secret.key").read_text().strip()
