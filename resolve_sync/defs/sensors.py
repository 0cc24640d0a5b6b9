"""Sensors: partitions follow the connections, and a filter field change re-evaluates its connection (R10)."""

import json

import dagster as dg

from resolve_sync.defs.jobs import sync_job
from resolve_sync.defs.partitions import connections_partitions, run_tags
from resolve_sync.defs.resources import StoreResource


@dg.sensor(job=sync_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def connections_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    """Adds a partition for each new connection and launches its first sync; removes deleted ones."""
    wanted = {c.partition_key: c for c in store.connections()}
    existing = set(context.instance.get_dynamic_partitions(connections_partitions.name))
    new = sorted(set(wanted) - existing)
    gone = sorted(existing - set(wanted))
    requests = [
        dg.RunRequest(partition_key=key, run_key=f"first-sync:{key}:{wanted[key].id}", tags=run_tags(key))
        for key in new
        if wanted[key].enabled
    ]
    partition_requests = []
    if new:
        partition_requests.append(connections_partitions.build_add_request(new))
    if gone:
        partition_requests.append(connections_partitions.build_delete_request(gone))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests)


def filter_changes(
    previous: dict[str, list], current: dict[str, str | None]
) -> tuple[list[str], dict[str, list]]:
    """Connections whose filter field differs from the last one seen, and the next cursor.

    The cursor keeps a change counter per connection: a run key of `<key>:filter:<n>` is new for every
    change, so A → B → A re-runs (Dagster never repeats a sensor run key)."""
    changed, cursor = [], {}
    for key, field_id in current.items():
        seen = previous.get(key)
        if seen is None:
            cursor[key] = [field_id, 0]
        elif seen[0] != field_id:
            cursor[key] = [field_id, seen[1] + 1]
            changed.append(key)
        else:
            cursor[key] = seen
    return sorted(changed), cursor


@dg.sensor(job=sync_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def filter_field_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    """R10: setting, changing or clearing a connection's filter field launches a full re-evaluation."""
    previous = json.loads(context.cursor) if context.cursor else {}
    registered = set(context.instance.get_dynamic_partitions(connections_partitions.name))
    current = {
        c.partition_key: c.filter_field_id
        for c in store.connections(enabled_only=True)
        if c.partition_key in registered
    }
    changed, cursor = filter_changes(previous, current)
    requests = [
        dg.RunRequest(
            partition_key=key, run_key=f"{key}:filter:{cursor[key][1]}", tags=run_tags(key, full_refresh=True)
        )
        for key in changed
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))
