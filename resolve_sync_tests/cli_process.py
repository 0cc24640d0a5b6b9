"""Running `resolve-sync` as a person does: a separate process, its real stderr and exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlalchemy import Engine, create_engine, select

from resolve_sync import settings
from resolve_sync.store import migrations
from resolve_sync.store.models import MerchantConnection, SyncRun


def cli(*args: str, env: dict[str, str] | None = None, input: str | None = None, **kwargs: Any):
    """`resolve-sync ARGS` in a child process with this test's environment (its own state folder)."""
    return subprocess.run(
        [sys.executable, "-m", "resolve_sync.cli", *args],
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 300),
        **kwargs,
    )


def refused(result: subprocess.CompletedProcess, *phrases: str) -> str:
    """The command failed and its stderr says why, in the words given; returns stderr."""
    assert result.returncode != 0, result.stdout + result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    return result.stderr


def local_store() -> Engine:
    """The default store of this test's state folder, which the child processes use too."""
    engine = create_engine(f"sqlite:///{settings.state_dir() / 'resolve_sync.db'}")
    migrations.upgrade(engine)
    return engine


def stored_connections(engine: Engine) -> list[str]:
    with engine.connect() as db:
        return list(db.scalars(select(MerchantConnection.partition_key)))


def run_history(engine: Engine) -> list[Any]:
    with engine.connect() as db:
        return list(
            db.execute(
                select(SyncRun.id, SyncRun.status, SyncRun.mode, SyncRun.error, SyncRun.finished_at).order_by(
                    SyncRun.id
                )
            )
        )
