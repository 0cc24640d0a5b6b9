"""Faults NetSuite and the network really produce, each followed by the check that the store equals the
state of a fault-free run: 429 storms at and over the account's limit, 5xx bursts, connections reset
mid-body, responses stalled past the client's timeout, and the sandbox restarted mid-run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync.store.database import create_store_engine
from resolve_sync.store.migrations import upgrade
from resolve_sync.sync import extract as extract_module
from resolve_sync.sync.clients import client_for
from resolve_sync.sync.steps import run_sync
from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import AS_OF, connect, medium_account, snapshot

RAW = medium_account()


def _store(path) -> Engine:
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _sync(
    engine: Engine,
    server: Any,
    *,
    limit: int = 5,
    timeout: float = 30.0,
    backoff: tuple[float, float] = (0.05, 1.0),
) -> tuple[dict, int]:
    connection = connect(engine, server, concurrency_limit=limit)
    with client_for(connection, engine, timeout_seconds=timeout) as client:
        client.retry.initial_seconds, client.retry.max_wait_seconds = backoff
        report = run_sync(client, engine, connection, as_of=AS_OF)
        return report.counts, client.stats.retries


def _restart_after_first_staging_batch(server: SandboxServer) -> Callable[[], None]:
    """The fault: the sandbox process goes away and comes back on the same port, mid-extract."""
    original = extract_module._upsert
    done: list[SandboxServer] = []
    restarts: list[threading.Timer] = []

    def upsert(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        if not restarts:
            port = int(server.base_url.rsplit(":", 1)[1])
            server.stop()
            # Down for a second (the fault's length, not a wait for an event): the port refuses connections.
            restart = threading.Timer(
                1.0, lambda: done.append(SandboxServer(parse_fixture(RAW), port=port).start())
            )
            restarts.append(restart)
            restart.start()

    extract_module._upsert = upsert  # type: ignore[assignment]

    def undo() -> None:
        extract_module._upsert = original  # type: ignore[assignment]
        for restart in restarts:
            restart.join()
        for restarted in done:
            restarted.stop()

    return undo


SCENARIOS: dict[str, dict[str, Any]] = {
    "429 storm at the limit": {"faults": {"seed": 1, "rate_429": 0.35}},
    "over the limit (account allows 2, connection asks 5)": {"settings": {"concurrency_limit": 2}},
    "5xx burst": {"faults": {"seed": 2, "next": ["500", "502", "503", "500", "503"], "rate_500": 0.1}},
    "connection resets mid-body": {"faults": {"seed": 3, "rate_reset": 0.15}},
    "stalls past the client timeout": {
        "faults": {"seed": 4, "next": ["stall", "stall"], "stall_seconds": 3},
        "timeout": 1.0,
    },
    # Down for a second plus the time the sandbox takes to load its account again: the backoff must span it
    # (with the quick test backoff, full jitter could spend all attempts inside the outage).
    "sandbox restarted mid-run": {"restart": True, "backoff": (0.5, 2.0)},
}


@pytest.mark.slow
def test_faults_leave_the_store_as_a_fault_free_run_would(tmp_path) -> None:
    with SandboxServer(parse_fixture(RAW)) as server:
        clean_counts, _ = _sync(_store(tmp_path / "clean.db"), server)
        expected = snapshot(_store(tmp_path / "clean.db"))
    assert clean_counts["created"] == 3_000 + 6_000
    survived = 0
    for number, (name, scenario) in enumerate(SCENARIOS.items()):
        server = SandboxServer(parse_fixture(RAW)).start()
        undo = _restart_after_first_staging_batch(server) if scenario.get("restart") else None
        try:
            control = admin(server.base_url)
            if "faults" in scenario:
                control.post("/_sandbox/faults", json=scenario["faults"])
            if "settings" in scenario:
                control.post("/_sandbox/settings", json=scenario["settings"])
            engine = _store(tmp_path / f"fault{number}.db")
            counts, retries = _sync(
                engine,
                server,
                timeout=scenario.get("timeout", 30.0),
                backoff=scenario.get("backoff", (0.05, 1.0)),
            )
            assert snapshot(engine) == expected, f"{name}: the store differs from a fault-free run"
            assert counts["created"] == clean_counts["created"], name
            assert retries > 0, f"{name}: no fault reached the client"
            survived += retries
        finally:
            if undo:
                undo()
            else:
                server.stop()
    print(f"faults survived: {survived}, records lost: 0, duplicated: 0")
