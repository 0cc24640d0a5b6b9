"""End to end through Dagster against the sandbox: assets, blocking checks, metadata."""

from __future__ import annotations

import dagster as dg
import pytest

from resolve_sync.definitions import defs
from resolve_sync.defs.partitions import AS_OF_TAG
from resolve_sync.defs.resources import StoreResource
from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync.store.duplicate_resolutions import record_resolution
from resolve_sync_tests.sync_helpers import AS_OF, FILTER, connect, customers, invoices, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def materialize(instance, store, key: str) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("connections", [key])
    return defs.resolve_job_def("sync_job").execute_in_process(
        partition_key=key,
        instance=instance,
        raise_on_error=False,
        resources={"store": StoreResource(database_url=store.url.render_as_string(hide_password=False))},
        tags={AS_OF_TAG: AS_OF.isoformat()},  # the merchant tag comes from the job's partitioned config
    )


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = [m for m in result.get_asset_materialization_events() if m.asset_key.path[-1] == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_a_clean_partition_syncs_and_reports_counts(instance, store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    result = materialize(instance, store, connection.partition_key)
    assert result.success
    assert set(customers(store)) == {"10", "11", "12", "13", "20", "30", "31", "40"}
    counts = _metadata(result, "resolve_records")
    assert counts["created"] == 14 and counts["netsuite_requests"] > 0 and "summary" in counts
    assert _metadata(result, "netsuite_customers")["customers_read"] == 8
    checks = _checks(result)
    assert checks["filter_field_id_valid"].passed and checks["no_duplicate_customers"].passed
    assert checks["invoices_held_back"].passed
    runs = instance.get_run_records()
    assert runs[0].dagster_run.tags["merchant"] == "acme"
    assert runs[0].dagster_run.tags["dagster/partition"] == "acme|2"


def test_an_invalid_filter_field_fails_the_run_and_writes_nothing(instance, store, sandbox_server) -> None:
    connection = connect(store, sandbox_server, filter_field="custentity_region")
    result = materialize(instance, store, connection.partition_key)
    assert not result.success
    check = _checks(result)["filter_field_id_valid"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "custentity_region" in check.description and "not a checkbox" in check.description
    executed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert "resolve_records" not in executed
    assert customers(store) == {} and invoices(store) == {}


def test_duplicates_fail_the_run_and_pass_after_being_marked_distinct(instance, store) -> None:
    raw = sync_fixture()
    raw["customers"].append(
        {
            "id": 60,
            "entityid": "C60",
            "companyname": "ACME, Inc.",
            "email": "other@acme.test",
            "subsidiary": 2,
            "custom": {FILTER: True},
        }
    )
    with SandboxServer(parse_fixture(raw)) as server:
        connection = connect(store, server)
        failed = materialize(instance, store, connection.partition_key)
        assert not failed.success
        check = _checks(failed)["no_duplicate_customers"]
        assert not check.passed and "netsuite:60" in check.metadata["duplicates"].value
        assert (
            "resolve-sync duplicates distinct acme netsuite:10 netsuite:60"
            in check.metadata["duplicates"].value
        )
        assert customers(store) == {}
        record_resolution(store, "acme", "netsuite:60", "netsuite:10", "distinct")
        assert materialize(instance, store, connection.partition_key).success
    assert {"10", "60"} <= set(customers(store))


def test_held_back_invoices_warn_without_failing(instance, store, sandbox_server) -> None:
    connection = connect(store, sandbox_server, filter_field=FILTER)
    result = materialize(instance, store, connection.partition_key)
    assert result.success
    check = _checks(result)["invoices_held_back"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "invoice 103" in check.metadata["examples"].value
