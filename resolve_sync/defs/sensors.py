"""Sensors: partitions follow the connections, and a filter field change re-evaluates its connection (R10)."""

import json

import dagster as dg

from resolve_sync.defs.batch import SYNC_BATCH_JOB, batch_groups, batch_request, group_run_key
from resolve_sync.defs.jobs import sync_job
from resolve_sync.defs.partitions import connections_partitions, run_tags
from resolve_sync.defs.resources import StoreResource
from resolve_sync.store.run_history import synced_filters
from resolve_sync.sync.scope import filter_changes


@dg.sensor(
    # By name: the job comes with the nightly schedule. A sensor holding an op job whose resources the
    # Definitions bind is rebuilt by Dagster 1.13 with a spurious BetaWarning about `owners`.
    job_name=SYNC_BATCH_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for each new connection and starts its first sync (several new "
    "connections to a run); removes the "
    "partitions of removed connections.",
)
def connections_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    """Adds a partition for each new connection and launches its first sync; removes deleted ones. New
    connections are grouped like the nightly's (`batch_groups`); a run key names each connection's id, so a
    connection removed and added again gets a first sync again."""
    wanted = {c.partition_key: c for c in store.connections()}
    existing = set(context.instance.get_dynamic_partitions(connections_partitions.name))
    new = sorted(set(wanted) - existing)
    gone = sorted(existing - set(wanted))
    requests = [
        batch_request(
            group,
            f"first-sync:{group[0]}:{wanted[group[0]].id}"
            if len(group) == 1
            else group_run_key("first-sync", [f"{key}:{wanted[key].id}" for key in group]),
            {},
        )
        for group in batch_groups([key for key in new if wanted[key].enabled])
    ]
    partition_requests = []
    if new:
        partition_requests.append(connections_partitions.build_add_request(new))
    if gone:
        partition_requests.append(connections_partitions.build_delete_request(gone))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests)


@dg.sensor(
    job=sync_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a connection's filter field is set, changed or cleared, starts a full sync of that "
    "connection. Nothing synced before is removed.",
)
def filter_field_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    """R10: setting, changing or clearing a connection's filter field launches a full re-evaluation."""
    previous = json.loads(context.cursor) if context.cursor else {}
    registered = set(context.instance.get_dynamic_partitions(connections_partitions.name))
    connections = [c for c in store.connections(enabled_only=True) if c.partition_key in registered]
    current = {c.partition_key: c.filter_field_id for c in connections}
    first_seen = [c for c in connections if c.partition_key not in previous]
    synced = synced_filters(store.engine(), [c.id for c in first_seen])
    synced_under = {c.partition_key: synced[c.id] for c in first_seen if c.id in synced}
    changed, cursor = filter_changes(previous, current, synced_under)
    requests = [
        dg.RunRequest(
            partition_key=key,
            # First seen with another filter than its last sync's: keyed by the two, as no counter was kept.
            run_key=f"{key}:filter:{cursor[key][1]}"
            if key in previous
            else f"{key}:filter:{synced_under[key]}->{cursor[key][0]}",
            tags=run_tags(key, full_refresh=True),
        )
        for key in changed
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))
