"""R15: a sync killed (SIGKILL) at random points of extract and apply, then run again, ends in exactly the
state of an uninterrupted run: no duplicate, nothing lost."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from resolve_sync.store.connections import add_connection, get_connection
from resolve_sync.store.database import create_store_engine
from resolve_sync.store.migrations import upgrade
from resolve_sync.store.secrets import SecretBox
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA, admin
from resolve_sync_tests.sync_helpers import FILTER, medium_account, set_filter, snapshot

TRIALS = 20
CUSTOMERS, INVOICES = 1_500, 8_000


def _account() -> dict:
    return medium_account(CUSTOMERS, INVOICES, latency={"per_request_ms": 40})


def _store(folder: Path, server, env: dict[str, str]):
    url = f"sqlite:///{folder / 'store.db'}"
    engine = create_store_engine(url)
    upgrade(engine)
    box = SecretBox([env["RESOLVE_SYNC_SECRET_KEY"].encode()])
    add_connection(
        engine,
        box,
        merchant_id="acme",
        netsuite_account_id=ACCOUNT_ID,
        auth_kind="tba",
        credentials=TBA,
        subsidiary_id=2,
        base_url=server.base_url,
        account_timezone=server.fixture.timezone,
    )
    return engine, url


def _sync_process(url: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "resolve_sync.cli", "sync", "acme", "--local", "--as-of", "2026-11-26"],
        env={**env, "RESOLVE_SYNC_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.sandbox_fixture(_account())
def test_r15_killed_runs_then_rerun_equal_a_clean_run(sandbox_server, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RESOLVE_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
        "RESOLVE_SYNC_STATE_DIR": str(tmp_path / "state"),
    }
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean_engine, clean_url = _store(clean_dir, sandbox_server, env)
    started = time.monotonic()
    clean = _sync_process(clean_url, env)
    assert clean.wait(timeout=300) == 0, clean.stderr.read()
    duration = time.monotonic() - started
    expected = snapshot(clean_engine)
    assert len(expected["customers"]) == CUSTOMERS and len(expected["invoices"]) == INVOICES

    rng = random.Random(1515)
    killed_at = []
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        engine, url = _store(folder, sandbox_server, env)
        victim = _sync_process(url, env)
        delay = rng.uniform(0.2, 0.85) * duration  # somewhere in extract or apply
        try:
            victim.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            victim.send_signal(signal.SIGKILL)
            killed_at.append(round(delay, 2))
        victim.wait(timeout=60)
        rerun = _sync_process(url, env)
        assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
        assert snapshot(engine) == expected, (
            f"trial {trial} (killed after {delay:.2f}s) differs from a clean run"
        )
        engine.dispose()
    assert len(killed_at) >= TRIALS // 2  # at least half the trials really were killed mid-run
    print(
        f"R15: {len(killed_at)} runs killed at {sorted(killed_at)} s of a {duration:.1f} s run; "
        "records lost: 0, duplicated: 0"
    )


INCREMENTAL_TRIALS, FILTER_TRIALS = 8, 6


def _copy_store(source: Path, target: Path) -> str:
    target.mkdir()
    for part in source.glob("store.db*"):  # the database and its write-ahead log
        shutil.copy(part, target / part.name)
    return f"sqlite:///{target / 'store.db'}"


def _change_a_third_of_the_account(server) -> None:
    """NetSuite edits that an incremental run must carry over: new emails, paid invoices, filter boxes."""
    raw = _account()
    customers = [
        {**c, "email": f"billing{c['id']}@c{c['id']}.test", "custom": {FILTER: c["id"] % 2 == 0}}
        for c in raw["customers"]
        if c["id"] % 3 == 0
    ]
    invoices = [{**i, "foreignamountunpaid": 0, "status": "B"} for i in raw["invoices"] if i["id"] % 3 == 0]
    control = admin(server.base_url)
    control.post("/_sandbox/clock", json={"now": "2026-11-26T09:00:00"})
    assert control.post("/_sandbox/records/customers", json={"records": customers}).status_code == 200
    assert control.post("/_sandbox/records/invoices", json={"records": invoices}).status_code == 200


def _was_killed_mid_run(engine) -> bool:
    with engine.connect() as db:
        return bool(db.scalar(text("SELECT count(*) FROM sync_runs WHERE status = 'running'")))


@pytest.mark.slow
@pytest.mark.sandbox_fixture(_account())
def test_r15_killed_incremental_and_filter_switch_runs_lose_no_change(sandbox_server, tmp_path: Path) -> None:
    """The kill lands after some changes were staged and before they were written: the next run, incremental
    or a filter re-evaluation, must still write every one of them (a first sync cannot show this: there
    every record is unlinked and always re-planned)."""
    env = {
        **os.environ,
        "RESOLVE_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
        "RESOLVE_SYNC_STATE_DIR": str(tmp_path / "state"),
    }
    synced = tmp_path / "synced"
    synced.mkdir()
    engine, url = _store(synced, sandbox_server, env)
    assert _sync_process(url, env).wait(timeout=300) == 0
    engine.dispose()
    _change_a_third_of_the_account(sandbox_server)

    killed, mid_run = 0, 0
    for scenario, trials in (("incremental", INCREMENTAL_TRIALS), ("filter", FILTER_TRIALS)):
        reference_url = _copy_store(synced, tmp_path / f"{scenario}-reference")
        reference = create_store_engine(reference_url)
        if scenario == "filter":
            set_filter(reference, get_connection(reference, "acme|2"), FILTER)
        started = time.monotonic()
        clean = _sync_process(reference_url, env)
        assert clean.wait(timeout=300) == 0, clean.stderr.read()
        duration = time.monotonic() - started
        expected = snapshot(reference)
        reference.dispose()
        rng = random.Random(f"{scenario}-1515")
        for trial in range(trials):
            url = _copy_store(synced, tmp_path / f"{scenario}-{trial}")
            engine = create_store_engine(url)
            if scenario == "filter":
                set_filter(engine, get_connection(engine, "acme|2"), FILTER)
            victim = _sync_process(url, env)
            delay = rng.uniform(0.35, 0.95) * duration
            try:
                victim.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                victim.send_signal(signal.SIGKILL)
                killed += 1
            victim.wait(timeout=60)
            mid_run += _was_killed_mid_run(engine)
            rerun = _sync_process(url, env)
            assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
            assert snapshot(engine) == expected, (
                f"{scenario} trial {trial} (killed after {delay:.2f}s) lost data"
            )
            engine.dispose()
    assert mid_run >= (INCREMENTAL_TRIALS + FILTER_TRIALS) // 3, f"only {mid_run} kills landed mid-run"
    print(f"R15 incremental/filter: {killed} killed, {mid_run} mid-run; records lost: 0, duplicated: 0")
