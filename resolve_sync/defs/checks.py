"""Freshness: every enabled connection had a successful sync within the last 26 hours."""

import datetime as dt

import dagster as dg
from sqlalchemy import func, select

from resolve_sync.defs.assets import resolve_records
from resolve_sync.defs.resources import StoreResource
from resolve_sync.store.models import SyncRun, utcnow

FRESHNESS = dt.timedelta(hours=26)


def stale_connections(store: StoreResource, now: dt.datetime) -> dict[str, str]:
    """Partition key → when it last synced successfully ('never' if it has not)."""
    engine = store.engine()
    stale = {}
    with engine.connect() as db:
        for connection in store.connections(enabled_only=True):
            last = db.scalar(
                select(func.max(SyncRun.finished_at)).where(
                    SyncRun.connection_id == connection.id, SyncRun.status == "succeeded"
                )
            )
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
