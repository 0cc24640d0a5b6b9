"""What the Dagster UI tells about one partition's run, read from the event log it draws from: each check
evaluation names its partition, a failed run says which check failed, why and the command that fixes it,
and a step that read nothing records no materialisation."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from resolve_sync.definitions import defs
from resolve_sync.defs.partitions import AS_OF_TAG
from resolve_sync.defs.resources import StoreResource
from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync_tests.sync_helpers import AS_OF, FILTER, connect, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())
RULE_ID = re.compile(r"\bR\d{1,2}\b")


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def materialize(instance, store, key: str) -> dg.ExecuteInProcessResult:
    if not instance.has_dynamic_partition("connections", key):
        instance.add_dynamic_partitions("connections", [key])
    return defs.resolve_job_def("sync_job").execute_in_process(
        partition_key=key,
        instance=instance,
        raise_on_error=False,
        resources={"store": StoreResource(database_url=store.url.render_as_string(hide_password=False))},
        tags={AS_OF_TAG: AS_OF.isoformat()},
    )


def step_failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {
        e.step_key: e.step_failure_data.error.message
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    }


def test_every_check_evaluation_names_its_partition(instance, store, sandbox_server) -> None:
    connection = connect(store, sandbox_server, filter_field=FILTER)
    result = materialize(instance, store, connection.partition_key)
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {
        "filter_field_id_valid",
        "no_duplicate_customers",
        "invoices_held_back",
        "financed_invoice_drift",
    }
    assert {e.partition for e in evaluations} == {connection.partition_key}
    for check in defs.resolve_asset_graph().asset_check_keys:
        spec = defs.resolve_asset_graph().get_check_spec(check)
        if check.name not in ("sync_freshness", "netsuite_authorization_valid"):  # fleet-wide, hourly
            assert spec.partitions_def is not None, check


def test_the_held_back_warning_names_a_command_that_lists_them(instance, store, sandbox_server) -> None:
    import shlex

    from resolve_sync_tests.cli.process import run

    connection = connect(store, sandbox_server, filter_field=FILTER)
    result = materialize(instance, store, connection.partition_key)
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["invoices_held_back"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    command = check.description.split("`")[1]
    assert command.startswith("resolve-sync status ")
    listed = run(
        *shlex.split(command)[1:], env={"RESOLVE_SYNC_DATABASE_URL": store.url.render_as_string(False)}
    )
    assert "invoice 103 held_back:" in listed


def test_an_invalid_filter_records_no_materialisation_and_the_failure_names_field_and_fix(
    instance, store, sandbox_server
) -> None:
    connection = connect(store, sandbox_server, filter_field="custentity_region")
    result = materialize(instance, store, connection.partition_key)
    assert not result.success
    assert result.get_asset_materialization_events() == []
    (check,) = result.get_asset_check_evaluations()  # the duplicates check was not evaluated
    assert check.check_name == "filter_field_id_valid" and not check.passed
    assert check.partition == connection.partition_key
    message = step_failures(result)["netsuite_customers"]
    assert "filter_field_id_valid failed" in message and "custentity_region" in message
    assert "not a checkbox" in message
    assert f"resolve-sync connections clear-filter acme --subsidiary {connection.subsidiary_id}" in message


def test_a_duplicates_failure_says_which_pair_and_the_command_that_resolves_it(instance, store) -> None:
    raw = sync_fixture()
    raw["customers"].append(
        {"id": 60, "entityid": "C60", "companyname": "ACME, Inc.", "email": "x@acme.test", "subsidiary": 2}
    )
    with SandboxServer(parse_fixture(raw)) as server:
        connection = connect(store, server)
        result = materialize(instance, store, connection.partition_key)
    assert not result.success
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["no_duplicate_customers"]
    assert check.partition == "acme|2"
    for text in (check.description, step_failures(result)["netsuite_customers"]):
        assert "acme|2" in text and "netsuite:10" in text and "netsuite:60" in text
        assert "resolve-sync duplicates distinct acme netsuite:10 netsuite:60" in text
    assert "no_duplicate_customers failed" in step_failures(result)["netsuite_customers"]


def test_ui_texts_use_plain_words_not_rule_ids() -> None:
    graph = defs.resolve_asset_graph()
    texts = [graph.get(key).description or "" for key in graph.get_all_asset_keys()]
    texts += [graph.get_check_spec(key).description or "" for key in graph.asset_check_keys]
    texts += [job.description or "" for job in defs.resolve_all_job_defs()]
    texts += [s.description or "" for s in [*defs.schedules, *defs.sensors]]
    assert texts and not [t for t in texts if RULE_ID.search(t)]
