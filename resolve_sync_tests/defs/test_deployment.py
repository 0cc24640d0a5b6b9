"""A real deployment on this machine: `dagster dev` (webserver + daemon) on a PostgreSQL instance.

The connections sensor queues the first sync, `resolve-sync sync` submits another run of the same partition
through the webserver's GraphQL API as the UI does, the run queue keeps the two from overlapping (R13),
and both succeed.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from resolve_sync.bench.deployment import dagster_dev, wait_for
from resolve_sync.cli import cli
from resolve_sync.defs.jobs import freshness_job
from resolve_sync_tests.sandbox_helpers import admin, cli_connection_args
from resolve_sync_tests.sync_helpers import sync_fixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.sandbox_fixture(sync_fixture())]


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
    pg = make_url(pg_database_url).render_as_string(hide_password=False)
    with dagster_dev(tmp_path, postgres_url=pg) as deployment:
        url, home = deployment.url, deployment.home
        runner = CliRunner()
        added = runner.invoke(
            cli,
            cli_connection_args(sandbox_server),
        )
        assert added.exit_code == 0, added.output
        with dg.DagsterInstance.from_config(str(home)) as instance:
            wait_for(lambda: _sync_runs(instance), 120, "the connections sensor's first sync")
            synced = runner.invoke(cli, ["sync", "acme", "--webserver", url, "--as-of", "2026-11-26"])
            assert synced.exit_code == 0, synced.output
            assert "succeeded" in synced.output
            records = wait_for(
                lambda: (
                    [
                        r
                        for r in _sync_runs(instance)
                        if r.dagster_run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
                    ]
                    if len(_sync_runs(instance)) >= 2
                    and all(r.dagster_run.is_finished for r in _sync_runs(instance))
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


def _sync_runs(instance: dg.DagsterInstance) -> list[dg.RunRecord]:
    """The deployment's sync runs; the hourly freshness check's run (at minute 15) is not one of them."""
    return [r for r in instance.get_run_records() if r.dagster_run.job_name != freshness_job.name]
