"""The nightly schedule and both sensors, evaluated through Dagster's own APIs."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest
from sqlalchemy import insert, text

from resolve_sync.definitions import defs
from resolve_sync.defs.resources import StoreResource
from resolve_sync.defs.schedules import nightly_sync
from resolve_sync.defs.sensors import connections_sensor, filter_changes, filter_field_sensor
from resolve_sync.store.connections import add_connection
from resolve_sync.store.secrets import SecretBox
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA
from resolve_sync_tests.sync_helpers import set_filter


def _add(store, merchant: str, subsidiary: int, *, enabled: bool = True, filter_field: str | None = None):
    return add_connection(
        store,
        SecretBox.from_environment(),
        merchant_id=merchant,
        netsuite_account_id=ACCOUNT_ID,
        auth_kind="tba",
        credentials=TBA,
        subsidiary_id=subsidiary,
        enabled=enabled,
        base_url="http://127.0.0.1:9",
        filter_field_id=filter_field,
    )


def _resources(store) -> dict:
    return {"store": StoreResource(database_url=store.url.render_as_string(hide_password=False))}


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_nightly_sync_requests_one_run_per_enabled_connection(store, instance) -> None:
    _add(store, "acme", 2)
    _add(store, "acme", 3)
    _add(store, "globex", 1, enabled=False)
    instance.add_dynamic_partitions("connections", ["acme|2", "acme|3", "globex|1"])
    when = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        resources=_resources(store),
        repository_def=defs.get_repository_def(),
    )
    data = nightly_sync.evaluate_tick(context)
    requests = data.run_requests
    assert sorted(r.partition_key for r in requests) == ["acme|2", "acme|3"]
    assert {r.run_key for r in requests} == {"acme|2:2026-11-27", "acme|3:2026-11-27"}
    assert all(
        r.tags["merchant"] == "acme" and r.tags["resolve_sync/as_of"] == "2026-11-27" for r in requests
    )
    assert nightly_sync.cron_schedule == "0 2 * * *"


def test_connections_sensor_adds_and_removes_partitions_and_starts_first_syncs(store, instance) -> None:
    from resolve_sync.store.models import MerchantConnection

    _add(store, "acme", 2)
    _add(store, "globex", 1)
    context = dg.build_sensor_context(
        instance=instance,
        resources=_resources(store),
        repository_def=defs.get_repository_def(),
        instance_ref=instance.get_ref(),
    )
    result = connections_sensor.evaluate_tick(context)
    assert sorted(r.partition_key for r in result.run_requests) == ["acme|2", "globex|1"]
    assert result.dynamic_partitions_requests[0].partition_keys == ["acme|2", "globex|1"]
    instance.add_dynamic_partitions("connections", ["acme|2", "globex|1"])
    with store.begin() as db:
        db.execute(MerchantConnection.__table__.delete().where(MerchantConnection.merchant_id == "globex"))
    result = connections_sensor.evaluate_tick(
        dg.build_sensor_context(
            instance=instance,
            resources=_resources(store),
            repository_def=defs.get_repository_def(),
            instance_ref=instance.get_ref(),
        )
    )
    assert result.run_requests == []
    assert result.dynamic_partitions_requests[0].partition_keys == ["globex|1"]


def _filter_tick(store, instance, cursor: str | None):
    """One evaluation of `filter_field_sensor` through Dagster's own API, from `cursor`."""
    return filter_field_sensor.evaluate_tick(
        dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            resources=_resources(store),
            repository_def=defs.get_repository_def(),
            instance_ref=instance.get_ref(),
        )
    )


def test_filter_field_changes_a_b_a_each_launch_a_full_refresh(store, instance) -> None:
    connection = _add(store, "acme", 2, filter_field="custentity_a")
    instance.add_dynamic_partitions("connections", ["acme|2"])

    first = _filter_tick(store, instance, None)
    assert first.run_requests == []  # the first tick only records the current state
    cursor = first.cursor
    run_keys = []
    for field_id in ("custentity_b", "custentity_a", None):
        set_filter(store, connection, field_id)
        result = _filter_tick(store, instance, cursor)
        (request,) = result.run_requests
        assert request.partition_key == "acme|2" and request.tags["resolve_sync/full_refresh"] == "true"
        run_keys.append(request.run_key)
        cursor = result.cursor
        assert _filter_tick(store, instance, cursor).run_requests == []  # no change, no run
    assert len(set(run_keys)) == 3  # A → B → A → none: three distinct run keys, none deduplicated away


def test_r10_a_connection_enabled_with_another_filter_than_its_last_sync_launches_a_full_refresh(
    store, instance
) -> None:
    """Enabled and given a filter field between two ticks: the sensor first sees it with the new field, and
    compares it with the field its last sync used (its cursor's), not with nothing."""
    from resolve_sync.store.models import SyncCursor, utcnow

    connection = _add(store, "acme", 2, enabled=False)
    instance.add_dynamic_partitions("connections", ["acme|2"])
    with store.begin() as db:  # as a sync without a filter field leaves it
        db.execute(
            insert(SyncCursor).values(
                connection_id=connection.id, stream="customers", last_modified=utcnow(), filter_field_id=None
            )
        )

    first = _filter_tick(store, instance, None)
    assert first.run_requests == []  # disabled: not seen
    with store.begin() as db:
        db.execute(text("UPDATE merchant_connections SET enabled = :yes"), {"yes": True})
    set_filter(store, connection, "custentity_a")
    second = _filter_tick(store, instance, first.cursor)
    (request,) = second.run_requests
    assert request.partition_key == "acme|2" and request.tags["resolve_sync/full_refresh"] == "true"
    assert _filter_tick(store, instance, second.cursor).run_requests == []
    _add(
        store, "globex", 1
    )  # never synced: its first run is full anyway, and the connections sensor starts it
    instance.add_dynamic_partitions("connections", ["globex|1"])
    assert _filter_tick(store, instance, second.cursor).run_requests == []


def test_filter_changes_cursor_logic() -> None:
    changed, cursor = filter_changes({"a|1": ["x", 0]}, {"a|1": "y", "b|1": None})
    assert changed == ["a|1"] and cursor == {"a|1": ["y", 1], "b|1": [None, 0]}
    assert json.loads(json.dumps(cursor)) == cursor


def test_freshness_check_flags_connections_without_a_recent_success(store, instance) -> None:
    from resolve_sync.store.models import SyncRun, utcnow

    fresh, stale = _add(store, "acme", 2), _add(store, "globex", 1)
    with store.begin() as db:
        for connection, age in ((fresh, 2), (stale, 30)):
            finished = utcnow() - dt.timedelta(hours=age)
            db.execute(
                SyncRun.__table__.insert().values(
                    connection_id=connection.id,
                    merchant_id=connection.merchant_id,
                    mode="full",
                    as_of=finished.date(),
                    status="succeeded",
                    started_at=finished,
                    finished_at=finished,
                    counts={},
                    pending_cursors={},
                )
            )
    result = defs.resolve_job_def("freshness_job").execute_in_process(
        instance=instance, resources=_resources(store)
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "globex|1" in evaluation.metadata["connections"].value
    assert "acme|2" not in evaluation.metadata["connections"].value
