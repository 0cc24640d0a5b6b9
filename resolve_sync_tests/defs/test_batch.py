"""Fleet runs (issue 15): several connections in one Dagster run of `sync_batch_job`, each recorded on its
own partition, through Dagster's own APIs (`execute_in_process`, schedule and sensor evaluation)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from resolve_sync.definitions import defs
from resolve_sync.defs.batch import CONNECTIONS_TAG, SYNC_BATCH_JOB, batch_groups, batch_run_config
from resolve_sync.defs.resources import StoreResource
from resolve_sync.defs.schedules import nightly_sync
from resolve_sync.defs.sensors import connections_sensor
from resolve_sync.kinds import RunStatus
from resolve_sync.names import AS_OF_TAG
from resolve_sync.store.run_history import last_runs
from resolve_sync.sync.ledger import fail_run, start_run
from resolve_sync_tests.sync_helpers import AS_OF, connect, customers, invoices, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())
ASSETS = ("netsuite_customers", "netsuite_invoices", "resolve_records")
CHECKS = {
    "filter_field_id_valid": "netsuite_customers",
    "no_duplicate_customers": "netsuite_customers",
    "invoices_held_back": "resolve_records",
    "financed_invoice_drift": "resolve_records",
}


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _resources(store) -> dict:
    return {"store": StoreResource(database_url=store.url.render_as_string(hide_password=False))}


def _run_batch(instance, store, keys: list[str]) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("connections", keys)
    return defs.resolve_job_def(SYNC_BATCH_JOB).execute_in_process(
        run_config=batch_run_config(keys),
        instance=instance,
        raise_on_error=False,
        resources=_resources(store),
        tags={AS_OF_TAG: AS_OF.isoformat()},
    )


def _materializations(instance, asset: str) -> dict[str, list[dict]]:
    """Partition → the metadata of each of its materialisations, from the instance's event log."""
    found: dict[str, list[dict]] = {}
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=100).records
    for record in records:
        event = record.asset_materialization
        found.setdefault(event.partition, []).append({k: v.value for k, v in event.metadata.items()})
    return found


def _check_history(instance, check: str) -> dict[str, list[bool]]:
    key = dg.AssetCheckKey(dg.AssetKey(CHECKS[check]), check)
    history: dict[str, list[bool]] = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=100):
        evaluation = record.event.dagster_event.event_specific_data
        history.setdefault(record.partition, []).append(evaluation.passed)
    return history


def test_groups_spread_over_parallel_runs_and_are_capped_per_run() -> None:
    keys = [f"m{i:04d}|2" for i in range(203)]
    assert [len(g) for g in batch_groups(keys[:2], parallel_runs=4, per_run=50)] == [1, 1]
    assert [len(g) for g in batch_groups(keys[:10], parallel_runs=4, per_run=50)] == [3, 3, 2, 2]
    groups = batch_groups(keys, parallel_runs=4, per_run=50)
    assert len(groups) == 5 and max(len(g) for g in groups) <= 50
    assert [k for g in groups for k in g] == sorted(keys)  # every connection once, in key order
    assert batch_groups([], parallel_runs=4, per_run=50) == []


def test_one_run_records_each_partitions_own_materialisations_and_checks(instance, store, sandbox_server):
    """A failing connection (an invalid filter field) in the middle of a run: the others are synced and
    materialised with their own counts and checks; the failed one has only its failed check; the run fails
    naming it and why."""
    good = [connect(store, sandbox_server, merchant=m) for m in ("acme", "zeta")]
    bad = connect(store, sandbox_server, merchant="beta", filter_field="custentity_region")
    keys = [good[0].partition_key, bad.partition_key, good[1].partition_key]
    result = _run_batch(instance, store, keys)

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    text = failure.step_failure_data.user_failure_data.description
    assert "1 of 3 connection(s) failed" in text and "beta|2" in text and "custentity_region" in text
    assert "acme|2" not in text and "zeta|2" not in text
    (run,) = instance.get_run_records()
    assert run.dagster_run.tags.get("dagster/partition") is None  # a run of several partitions

    for asset in ASSETS:  # one materialisation per synced partition and asset, none for the failed one
        found = _materializations(instance, asset)
        assert sorted(found) == ["acme|2", "zeta|2"], asset
        assert all(len(events) == 1 and events[0] for events in found.values()), asset
    records = _materializations(instance, "resolve_records")
    assert records["acme|2"][0]["created"] == 14 and "acme|2" in records["acme|2"][0]["summary"]
    assert "zeta|2" in records["zeta|2"][0]["summary"]
    assert _materializations(instance, "netsuite_customers")["acme|2"][0]["customers_read"] == 8

    for check in CHECKS:
        history = _check_history(instance, check)
        assert history.get("acme|2") == [True] and history.get("zeta|2") == [True], check
    assert _check_history(instance, "filter_field_id_valid")["beta|2"] == [False]
    assert "beta|2" not in _check_history(instance, "no_duplicate_customers")  # never looked at
    assert instance.get_materialized_partitions(dg.AssetKey("resolve_records")) == {"acme|2", "zeta|2"}
    assert set(customers(store, "acme")) == set(customers(store, "zeta")) and customers(store, "beta") == {}


def test_a_bug_in_one_connection_keeps_what_it_recorded_and_the_others_go_on(
    instance, store, sandbox_server, monkeypatch
):
    from resolve_sync.sync import steps

    real = steps.apply_invoices_as_staged  # a first sync writes its invoices as they are read

    def broken_for_beta(engine, run, tree, staged):  # a bug writing invoices: beta's customers are written
        if run.connection.merchant_id == "beta":
            raise RuntimeError("boom in beta")
        return real(engine, run, tree, staged)

    monkeypatch.setattr(steps, "apply_invoices_as_staged", broken_for_beta)
    connections = [connect(store, sandbox_server, merchant=m) for m in ("acme", "beta", "zeta")]
    result = _run_batch(instance, store, [c.partition_key for c in connections])
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "beta|2: RuntimeError: boom in beta" in failure.step_failure_data.user_failure_data.description
    assert sorted(_materializations(instance, "netsuite_customers")) == ["acme|2", "beta|2", "zeta|2"]
    assert sorted(_materializations(instance, "netsuite_invoices")) == ["acme|2", "zeta|2"]
    assert sorted(_materializations(instance, "resolve_records")) == ["acme|2", "zeta|2"]
    assert customers(store, "beta") and invoices(store, "beta") == {}
    assert invoices(store, "zeta")
    (beta_run,) = last_runs(store, connections[1].id)
    assert beta_run.status == RunStatus.FAILED and "boom in beta" in (beta_run.error or "")


def test_a_connection_another_run_holds_is_left_to_it_and_the_rest_sync(instance, store, sandbox_server):
    """R13 inside a fleet run: the store's lease refuses the held connection (recorded in the run history),
    the run syncs the others and succeeds, and reports the connection as busy."""
    held = connect(store, sandbox_server, merchant="acme")
    free = connect(store, sandbox_server, merchant="zeta")
    other = start_run(store, held, as_of=AS_OF, full_refresh=False, subsidiary_id=2, dagster_run_id="other")
    try:
        result = _run_batch(instance, store, [held.partition_key, free.partition_key])
    finally:
        fail_run(store, other.run_id, RuntimeError("stopped by the test"), status=RunStatus.CANCELLED)
    assert result.success
    assert sorted(_materializations(instance, "resolve_records")) == ["zeta|2"]
    assert customers(store, "acme") == {} and customers(store, "zeta")
    logs = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("acme|2: not synced by this run" in m and "Dagster run other" in m for m in logs)


def test_a_partition_run_of_the_batch_job_is_an_ordinary_partition_run(instance, store, sandbox_server):
    connection = connect(store, sandbox_server)
    instance.add_dynamic_partitions("connections", [connection.partition_key])
    result = defs.resolve_job_def(SYNC_BATCH_JOB).execute_in_process(
        partition_key=connection.partition_key,
        instance=instance,
        resources=_resources(store),
        tags={AS_OF_TAG: AS_OF.isoformat()},
    )
    assert result.success
    (run,) = instance.get_run_records()
    assert (
        run.dagster_run.tags["dagster/partition"] == "acme|2" and run.dagster_run.tags["merchant"] == "acme"
    )
    assert sorted(_materializations(instance, "resolve_records")) == ["acme|2"]


def _add(store, merchant: str, *, enabled: bool = True):
    from resolve_sync.store.connections import add_connection
    from resolve_sync.store.secrets import SecretBox
    from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA

    return add_connection(
        store,
        SecretBox.from_environment(),
        merchant_id=merchant,
        netsuite_account_id=ACCOUNT_ID,
        auth_kind="tba",
        credentials=TBA,
        subsidiary_id=2,
        enabled=enabled,
        base_url="http://127.0.0.1:9",
    )


def test_the_nightly_groups_a_fleet_into_a_few_runs(store, instance, monkeypatch) -> None:
    monkeypatch.setenv("RESOLVE_SYNC_PARALLEL_RUNS", "2")
    monkeypatch.setenv("RESOLVE_SYNC_CONNECTIONS_PER_RUN", "3")
    merchants = [f"m{i:02d}" for i in range(7)]
    for merchant in merchants:
        _add(store, merchant)
    _add(store, "off", enabled=False)
    instance.add_dynamic_partitions("connections", [f"{m}|2" for m in [*merchants, "off"]])
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC),
        resources=_resources(store),
        repository_def=defs.get_repository_def(),
    )
    requests = nightly_sync.evaluate_tick(context).run_requests
    groups = [r.run_config["ops"]["sync_connections"]["config"]["partitions"] for r in requests]
    assert groups == [["m00|2", "m01|2", "m02|2"], ["m03|2", "m04|2"], ["m05|2", "m06|2"]]
    assert all(r.partition_key is None and r.tags[AS_OF_TAG] == "2026-11-27" for r in requests)
    assert [r.tags[CONNECTIONS_TAG] for r in requests] == ["3", "2", "2"]
    assert len({r.run_key for r in requests}) == 3 and all("2026-11-27" in r.run_key for r in requests)
    assert nightly_sync.job_name == SYNC_BATCH_JOB
    again = nightly_sync.evaluate_tick(context).run_requests  # the same tick evaluated again: same keys
    assert [r.run_key for r in again] == [r.run_key for r in requests]


def test_the_connections_sensor_groups_first_syncs(store, instance, monkeypatch) -> None:
    monkeypatch.setenv("RESOLVE_SYNC_PARALLEL_RUNS", "2")
    for merchant in ("a1", "a2", "a3", "a4", "a5"):
        _add(store, merchant)
    result = connections_sensor.evaluate_tick(
        dg.build_sensor_context(
            instance=instance,
            resources=_resources(store),
            repository_def=defs.get_repository_def(),
            instance_ref=instance.get_ref(),
        )
    )
    groups = [r.run_config["ops"]["sync_connections"]["config"]["partitions"] for r in result.run_requests]
    assert groups == [["a1|2", "a2|2", "a3|2"], ["a4|2", "a5|2"]]
    assert all(r.run_key.startswith("first-sync:") for r in result.run_requests)
