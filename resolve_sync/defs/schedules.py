"""R14: a nightly sync of every enabled connection, at 02:00 in a configurable time zone.

The connections are grouped into runs of `sync_batch_job` (`resolve_sync.defs.batch`): a run's start-up
costs far more than a no-change sync, so a fleet's nightly launches a few runs of many connections; a
group of one is an ordinary partition run."""

import os

import dagster as dg

from resolve_sync.defs.batch import batch_groups, batch_request, group_run_key, sync_batch_job
from resolve_sync.defs.jobs import freshness_job
from resolve_sync.defs.partitions import connections_partitions
from resolve_sync.defs.resources import StoreResource
from resolve_sync.names import AS_OF_TAG

SCHEDULE_TIMEZONE = os.environ.get("RESOLVE_SYNC_SCHEDULE_TIMEZONE", "UTC")


def nightly_requests(store: StoreResource, registered: set[str], logical_date: str) -> list[dg.RunRequest]:
    """The night's runs: run key `<partition>:<date>` for a run of one connection, `nightly:<date>:<first>..
    <last>:<count>:<digest>` for a group, so a re-evaluated tick launches nothing twice."""
    keys = [c.partition_key for c in store.connections(enabled_only=True) if c.partition_key in registered]
    return [
        batch_request(
            group,
            f"{group[0]}:{logical_date}"
            if len(group) == 1
            else group_run_key(f"nightly:{logical_date}", group),
            {AS_OF_TAG: logical_date},
        )
        for group in batch_groups(keys)
    ]


@dg.schedule(
    job=sync_batch_job,
    cron_schedule="0 2 * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    name="nightly_sync",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00, a sync of every enabled connection (only what changed since the last), "
    "several connections to a run.",
)
def nightly_sync(
    context: dg.ScheduleEvaluationContext, store: StoreResource
) -> dg.SkipReason | list[dg.RunRequest]:
    registered = set(context.instance.get_dynamic_partitions(connections_partitions.name))
    logical_date = context.scheduled_execution_time.date().isoformat()
    requests = nightly_requests(store, registered, logical_date)
    return requests or dg.SkipReason("no enabled connection has a partition yet")


@dg.schedule(
    job=freshness_job,
    cron_schedule="15 * * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    name="hourly_freshness_check",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, warns about enabled connections without a successful sync in 26 hours.",
)
def hourly_freshness_check(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())
