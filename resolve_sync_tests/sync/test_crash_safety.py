"""R15: a sync killed (SIGKILL) at random points of extract and apply, then run again, ends in exactly the
state of an uninterrupted run: no duplicate, nothing lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from resolve_sync.store.connections import add_connection
from resolve_sync.store.database import create_store_engine
from resolve_sync.store.migrations import upgrade
from resolve_sync.store.secrets import SecretBox
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA
from resolve_sync_tests.sync_helpers import medium_account, snapshot

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
