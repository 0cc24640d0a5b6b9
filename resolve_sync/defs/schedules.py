"""R14: a nightly sync of every enabled connection, at 02:00 in a configurable time zone."""

import os

import dagster as dg

from resolve_sync.defs.jobs import freshness_job, sync_job
from resolve_sync.defs.partitions import connections_partitions, run_tags
from resolve_sync.defs.resources import StoreResource

SCHEDULE_TIMEZONE = os.environ.get("RESOLVE_SYNC_SCHEDULE_TIMEZONE", "UTC")


def nightly_requests(store: StoreResource, registered: set[str], logical_date: str) -> list[dg.RunRequest]:
    return [
        dg.RunRequest(
            partition_key=c.partition_key,
            run_key=f"{c.partition_key}:{logical_date}",
            tags=run_tags(c.partition_key, as_of=logical_date),
        )
        for c in store.connections(enabled_only=True)
        if c.partition_key in registered
    ]


@dg.schedule(
    job=sync_job,
    cron_schedule="0 2 * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    name="nightly_sync",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00, one sync per enabled connection (only what changed since the last).",
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
