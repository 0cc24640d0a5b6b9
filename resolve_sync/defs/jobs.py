"""Jobs: the sync of one partition, and the freshness check on its own."""

import dagster as dg

from resolve_sync.connection_keys import parse_key
from resolve_sync.defs.assets import netsuite_customers, netsuite_invoices, resolve_records
from resolve_sync.defs.checks import sync_freshness
from resolve_sync.defs.partitions import connections_partitions
from resolve_sync.defs.reconnect_check import netsuite_authorization_valid
from resolve_sync.names import FRESHNESS_JOB, MERCHANT_TAG, SYNC_JOB


@dg.partitioned_config(
    partitions_def=connections_partitions,
    tags_for_partition_key_fn=lambda key: {MERCHANT_TAG: parse_key(key).merchant_id},
)
def sync_config(partition_key: str) -> dict:
    """No run config; the partition's runs carry the merchant tag, including runs launched from the UI."""
    return {}


sync_job = dg.define_asset_job(
    SYNC_JOB,
    config=sync_config,
    selection=dg.AssetSelection.assets(netsuite_customers, netsuite_invoices, resolve_records)
    - dg.AssetSelection.checks(sync_freshness, netsuite_authorization_valid),
    description="Sync one connection (partition): extract customers, extract invoices, write Resolve records.",
    # One process per run, not one per step: a step's own process costs a Python start and the imports of
    # dagster and the project (about 1.7 s of CPU) for well under a second of work, and the steps of a
    # run are sequential anyway. The steps still pass everything through the store (R13's lease is handed
    # over between them), so a multiprocess or Kubernetes executor would work unchanged.
    executor_def=dg.in_process_executor,
)

freshness_job = dg.define_asset_job(
    FRESHNESS_JOB,
    selection=dg.AssetSelection.checks(sync_freshness),
    description="Check that every enabled connection synced successfully within the last 26 hours.",
)
