"""Freshness: every enabled connection had a successful sync within the last 26 hours."""

import datetime as dt

import dagster as dg

from resolve_sync.defs.assets import resolve_records
from resolve_sync.defs.resources import StoreResource
from resolve_sync.store.models import utcnow
from resolve_sync.store.run_history import last_success

FRESHNESS = dt.timedelta(hours=26)


def stale_connections(store: StoreResource, now: dt.datetime) -> dict[str, str]:
    """Partition key → when it last synced successfully ('never' if it has not)."""
    connections = store.connections(enabled_only=True)
    succeeded = last_success(store.engine(), [c.id for c in connections])
    stale = {}
    for connection in connections:
        last = succeeded.get(connection.id)
        if last is None or now - last > FRESHNESS:
            stale[connection.partition_key] = last.isoformat() if last else "never"
    return stale


@dg.asset_check(
    asset=resolve_records,
    blocking=False,
    description="Every enabled connection synced successfully within the last 26 hours.",
)
def sync_freshness(store: StoreResource) -> dg.AssetCheckResult:
    stale = stale_connections(store, utcnow())
    table = "\n".join(f"| {key} | {when} |" for key, when in sorted(stale.items()))
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(stale)} connection(s) without a successful sync in 26 hours."
        if stale
        else "All fresh.",
        metadata={
            "stale": len(stale),
            **(
                {"connections": dg.MetadataValue.md("| connection | last success |\n|---|---|\n" + table)}
                if stale
                else {}
            ),
        },
    )
