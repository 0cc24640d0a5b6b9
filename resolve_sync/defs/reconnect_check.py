"""Connections whose NetSuite authorization needs a user again, flagged before the nightly runs fail.

An `oauth2_code` connection stops working when its refresh token expires (seven days after "Allow access"
by default) or is revoked. The first run that finds out marks it `needs_reconnect`; this WARN check lists
those, and those whose refresh token runs out within `WARN_AHEAD`, with the command that fixes each. It runs
hourly on its own job, so it reports before 02:00's nightly runs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable

import dagster as dg

from resolve_sync.defs.assets import resolve_records
from resolve_sync.defs.resources import StoreResource
from resolve_sync.names import RECONNECT_CHECK, RECONNECT_JOB
from resolve_sync.store.authorizations import connect_command, reconnect_message
from resolve_sync.store.connections import Connection
from resolve_sync.store.models import utcnow

WARN_AHEAD = dt.timedelta(hours=48)  # two nightly runs' notice
SCHEDULE_TIMEZONE = os.environ.get("RESOLVE_SYNC_SCHEDULE_TIMEZONE", "UTC")  # as defs/schedules.py


def connections_to_reconnect(
    connections: Iterable[Connection], now: dt.datetime, ahead: dt.timedelta = WARN_AHEAD
) -> dict[str, str]:
    """Partition key → why a user must allow access again (now, or before `now + ahead`) and how."""
    flagged = {}
    for connection in connections:
        if connection.needs_reconnect:
            flagged[connection.partition_key] = reconnect_message(connection)
        elif (
            connection.authorization_expires_at is not None
            and connection.authorization_expires_at < now + ahead
        ):
            flagged[connection.partition_key] = (
                f"Merchant {connection.merchant_id!r}: the NetSuite authorization runs out at "
                f"{connection.authorization_expires_at.isoformat(timespec='minutes')}; run "
                f'`{connect_command(connection)}` and press "Allow access" before then.'
            )
    return flagged


@dg.asset_check(
    asset=resolve_records,
    name=RECONNECT_CHECK,
    blocking=False,
    description="No enabled connection needs a user to allow NetSuite access again (now or within 48 hours).",
)
def netsuite_authorization_valid(store: StoreResource) -> dg.AssetCheckResult:
    flagged = connections_to_reconnect(store.connections(enabled_only=True), utcnow())
    table = "\n".join(f"| {key} | {why} |" for key, why in sorted(flagged.items()))
    return dg.AssetCheckResult(
        passed=not flagged,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(flagged)} connection(s) need NetSuite access allowed again."
        if flagged
        else "Every connection's NetSuite authorization is valid.",
        metadata={
            "needs_reconnect": len(flagged),
            **(
                {"connections": dg.MetadataValue.md("| connection | what to do |\n|---|---|\n" + table)}
                if flagged
                else {}
            ),
        },
    )


reconnect_check_job = dg.define_asset_job(
    RECONNECT_JOB, selection=dg.AssetSelection.checks(netsuite_authorization_valid)
)


@dg.schedule(
    job=reconnect_check_job,
    cron_schedule="45 * * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    name="hourly_reconnect_check",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def hourly_reconnect_check(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())
