"""A real deployment on this machine: `dagster dev` (webserver + daemon) on a PostgreSQL instance.

The connections sensor queues the first sync, `resolve-sync sync` submits another run of the same partition
through the webserver's GraphQL API as the UI does, the run queue keeps the two from overlapping (R13),
and both succeed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest
import yaml
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from resolve_sync import settings
from resolve_sync.cli import cli
from resolve_sync.defs.instance import local_instance_config
from resolve_sync_tests.sandbox_helpers import admin, cli_connection_args
from resolve_sync_tests.sync_helpers import sync_fixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.sandbox_fixture(sync_fixture())]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float, what: str):  # polling a separate process: there is no event to await
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/server_info", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_daemon_queues_sensor_and_graphql_runs_without_overlap(
    tmp_path: Path, pg_database_url: str, sandbox_server, monkeypatch
) -> None:
    from resolve_sync_tests.conftest import reset_pg_schema

    reset_pg_schema(pg_database_url)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("RESOLVE_SYNC_DATABASE_URL", store_url)
    monkeypatch.setenv("RESOLVE_SYNC_SECRET_KEY", Fernet.generate_key().decode())
    from resolve_sync.store.database import create_store_engine
    from resolve_sync.store.migrations import upgrade

    upgrade(create_store_engine(store_url))
    admin(sandbox_server.base_url).post("/_sandbox/latency", json={"per_request_ms": 800})
    pg = make_url(pg_database_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = local_instance_config() | {
        "storage": {"postgres": {"postgres_url": pg.render_as_string(hide_password=False)}}
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "dev",
            "-w",
            str(settings.PROJECT_ROOT / "workspace.yaml"),
            "-p",
            str(port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(lambda: _up(url), 120, "the Dagster webserver")
        runner = CliRunner()
        added = runner.invoke(
            cli,
            cli_connection_args(sandbox_server),
        )
        assert added.exit_code == 0, added.output
        with dg.DagsterInstance.from_config(str(home)) as instance:
            _wait(lambda: instance.get_run_records(), 120, "the connections sensor's first sync")
            synced = runner.invoke(cli, ["sync", "acme", "--webserver", url, "--as-of", "2026-11-26"])
            assert synced.exit_code == 0, synced.output
            assert "succeeded" in synced.output
            records = _wait(
                lambda: (
                    [
                        r
                        for r in instance.get_run_records()
                        if r.dagster_run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
                    ]
                    if len(instance.get_run_records()) >= 2
                    and all(r.dagster_run.is_finished for r in instance.get_run_records())
                    else None
                ),
                180,
                "both runs to finish",
            )
        assert len(records) == 2 and all(
            r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records
        ), [(r.dagster_run.job_name, r.dagster_run.status, r.dagster_run.tags) for r in records]
        assert {r.dagster_run.tags["dagster/partition"] for r in records} == {"acme|2"}
        first, second = sorted(records, key=lambda r: r.start_time)
        assert second.create_timestamp.timestamp() < first.end_time  # it was submitted while the first ran...
        assert first.end_time <= second.start_time  # ...and waited in the queue: one run per partition (R13)
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=60)
