"""A fleet run through a real deployment: `dagster dev` (webserver + daemon) on a PostgreSQL instance. The
connections sensor, run by the daemon, groups three new connections into one run of `sync_batch_job`; one
of them has an invalid filter field. The run fails naming it, and the two others are materialised, each
with its own checks, on their own partitions."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from resolve_sync.bench.deployment import dagster_dev, wait_for
from resolve_sync.defs.batch import CONNECTIONS_TAG, SYNC_BATCH_JOB
from resolve_sync_tests.sync_helpers import connect, customers, sync_fixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.sandbox_fixture(sync_fixture())]


def test_the_sensor_launches_one_fleet_run_that_materialises_each_good_partition(
    tmp_path: Path, pg_database_url: str, sandbox_server, monkeypatch
) -> None:
    from resolve_sync.store.database import create_store_engine
    from resolve_sync.store.migrations import upgrade
    from resolve_sync_tests.conftest import reset_pg_schema

    reset_pg_schema(pg_database_url)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("RESOLVE_SYNC_DATABASE_URL", store_url)
    monkeypatch.setenv("RESOLVE_SYNC_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("RESOLVE_SYNC_PARALLEL_RUNS", "1")  # all three new connections in one run
    store = create_store_engine(store_url)
    upgrade(store)
    connect(store, sandbox_server, merchant="acme")
    connect(store, sandbox_server, merchant="beta", filter_field="custentity_region")
    connect(store, sandbox_server, merchant="zeta")
    pg = make_url(pg_database_url).render_as_string(hide_password=False)
    try:
        with (
            dagster_dev(tmp_path, postgres_url=pg) as deployment,
            dg.DagsterInstance.from_config(str(deployment.home)) as instance,
        ):
            records = wait_for(
                lambda: (
                    instance.get_run_records()
                    if instance.get_run_records()
                    and all(r.dagster_run.is_finished for r in instance.get_run_records())
                    else None
                ),
                240,
                "the connections sensor's run",
            )
            (record,) = records
            run = record.dagster_run
            assert run.job_name == SYNC_BATCH_JOB and run.tags[CONNECTIONS_TAG] == "3"
            assert run.tags.get("dagster/sensor_name") == "connections_sensor"
            assert run.status == dg.DagsterRunStatus.FAILURE
            failures = [
                e.dagster_event.step_failure_data.user_failure_data.description
                for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
            ]
            assert len(failures) == 1 and "beta|2" in failures[0] and "custentity_region" in failures[0]
            for asset in ("netsuite_customers", "netsuite_invoices", "resolve_records"):
                assert instance.get_materialized_partitions(dg.AssetKey(asset)) == {"acme|2", "zeta|2"}
            key = dg.AssetCheckKey(dg.AssetKey("netsuite_customers"), "filter_field_id_valid")
            history = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
            assert {(r.partition, r.status.value) for r in history} == {
                ("acme|2", "SUCCEEDED"),
                ("zeta|2", "SUCCEEDED"),
                ("beta|2", "FAILED"),
            }
        assert customers(store, "acme") and customers(store, "zeta") and customers(store, "beta") == {}
    finally:
        store.dispose()
