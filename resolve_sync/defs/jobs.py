"""Jobs: the sync of one partition, and the freshness check on its own."""

from __future__ import annotations

import dagster as dg

from resolve_sync.defs.assets import netsuite_customers, netsuite_invoices, resolve_records
from resolve_sync.defs.checks import sync_freshness

sync_job = dg.define_asset_job(
    "sync_job",
    selection=dg.AssetSelection.assets(netsuite_customers, netsuite_invoices, resolve_records)
    - dg.AssetSelection.checks(sync_freshness),
    description="Sync one connection (partition): extract customers, extract invoices, write Resolve records.",
)

freshness_job = dg.define_asset_job("freshness_job", selection=dg.AssetSelection.checks(sync_freshness))
