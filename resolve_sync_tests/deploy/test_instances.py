"""The production instance (deploy/dagster.yaml) loads, and it, the Helm values and the local instance agree.

The instance is loaded as the webserver, daemon and run pods load it: from the file, with the DAGSTER_PG_*
and DAGSTER_K8S_* variables set (here pointing at the local PostgreSQL). One setting is changed: outside a
cluster the K8sRunLauncher cannot load its in-cluster credentials, so the test switches to the chart's own
alternative, `load_incluster_config: false` with a `kubeconfig_file`, a dummy one written by the test.
Nothing talks to a cluster: building the launcher only reads the config.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy.engine import make_url

from resolve_sync import settings
from resolve_sync.defs.instance import production_instance_config, run_concurrency_config
from resolve_sync_tests.conftest import reset_pg_schema

DEPLOY = settings.PROJECT_ROOT / "deploy"
STORE_SECRET = "resolve-sync-env"

DUMMY_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: nowhere
    cluster: {server: "https://127.0.0.1:1"}
users:
  - name: nobody
    user: {token: unused}
contexts:
  - name: nowhere
    context: {cluster: nowhere, user: nobody, namespace: dagster}
current-context: nowhere
"""


def helm_values() -> dict:
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


@pytest.mark.postgres
def test_production_instance_loads_on_postgresql_with_the_k8s_run_launcher(
    tmp_path: Path, pg_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("dagster_k8s", reason="the k8s extra (dagster-k8s) is not installed")
    reset_pg_schema(pg_database_url)  # the session's database also holds store tests' alembic_version
    pg = make_url(pg_database_url)
    for name, value in {
        "DAGSTER_PG_USERNAME": pg.username or "postgres",
        "DAGSTER_PG_PASSWORD": pg.password or "",
        "DAGSTER_PG_HOST": pg.host or "127.0.0.1",
        "DAGSTER_PG_DB": pg.database,
        "DAGSTER_PG_PORT": str(pg.port or 5432),
        "DAGSTER_K8S_INSTANCE_CONFIG_MAP": "dagster-instance",
        "DAGSTER_K8S_SERVICE_ACCOUNT": "dagster",
        "DAGSTER_K8S_JOB_NAMESPACE": "dagster",
    }.items():
        monkeypatch.setenv(name, value)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(DUMMY_KUBECONFIG)
    config = production_instance_config()
    config["run_launcher"]["config"] |= {"load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert instance.get_runs() == []  # the schema was created in the test's database
        launcher = instance.run_launcher
        assert type(launcher).__name__ == "K8sRunLauncher"
        assert launcher.job_namespace == "dagster"
        assert launcher.instance_config_map == "dagster-instance"
        assert STORE_SECRET in launcher.env_secrets
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == run_concurrency_config()["max_concurrent_runs"]
        assert queue.tag_concurrency_limits == run_concurrency_config()["tag_concurrency_limits"]
        assert (
            instance.run_coordinator.dequeue_interval_seconds
            == run_concurrency_config()["dequeue_interval_seconds"]
        )


def test_production_instance_queues_runs_with_the_local_limits() -> None:
    queued = production_instance_config()["run_coordinator"]["config"]
    assert queued == run_concurrency_config()
    assert "concurrency" not in production_instance_config()  # Dagster refuses both forms at once


def test_production_instance_uses_the_store_driver() -> None:
    scheme = production_instance_config()["storage"]["postgres"]["postgres_db"]["scheme"]
    assert scheme == "postgresql+psycopg2"
    assert helm_values()["postgresql"]["postgresqlScheme"] == scheme


def test_helm_values_render_the_production_instance() -> None:
    values = helm_values()
    production = production_instance_config()
    queued = values["dagsterDaemon"]["runCoordinator"]
    assert queued["enabled"] and queued["type"] == "QueuedRunCoordinator"
    assert queued["config"]["queuedRunCoordinator"] == {
        "maxConcurrentRuns": run_concurrency_config()["max_concurrent_runs"],
        "tagConcurrencyLimits": run_concurrency_config()["tag_concurrency_limits"],
        "dequeueIntervalSeconds": run_concurrency_config()["dequeue_interval_seconds"],
    }
    assert "concurrency" not in values  # the chart refuses run limits in both places
    assert values["runLauncher"]["type"] == production["run_launcher"]["class"] == "K8sRunLauncher"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert [s["name"] for s in launcher["envSecrets"]] == production["run_launcher"]["config"]["env_secrets"]
    assert (
        values["global"]["postgresqlSecretName"]
        == production["run_launcher"]["config"]["postgres_password_secret"]
    )
    assert values["postgresql"]["enabled"] is False  # an external, managed PostgreSQL
    assert values["telemetry"] == production["telemetry"]


def test_helm_code_location_serves_the_definitions_with_the_store_secrets() -> None:
    (location,) = helm_values()["dagster-user-deployments"]["deployments"]
    assert location["dagsterApiGrpcArgs"] == ["-m", "resolve_sync.definitions"]
    assert {"name": STORE_SECRET} in location["envSecrets"]
    assert location["includeConfigInLaunchedRuns"]["enabled"] is True
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", location["name"])  # a Kubernetes name
    # The image's DAGSTER_HOME is where the chart mounts the instance and where run pods look for it.
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert (
        f"DAGSTER_HOME={production_instance_config()['run_launcher']['config']['dagster_home']}" in dockerfile
    )
