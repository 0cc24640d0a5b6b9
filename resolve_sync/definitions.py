"""The one Definitions object of the resolve_sync code location."""

from __future__ import annotations

import dagster as dg

from resolve_sync.defs.assets import netsuite_customers, netsuite_invoices, resolve_records
from resolve_sync.defs.checks import sync_freshness
from resolve_sync.defs.jobs import freshness_job, sync_job
from resolve_sync.defs.reconnect_check import (
    hourly_reconnect_check,
    netsuite_authorization_valid,
    reconnect_check_job,
)
from resolve_sync.defs.resources import NetSuiteResource, StoreResource
from resolve_sync.defs.schedules import hourly_freshness_check, nightly_sync
from resolve_sync.defs.sensors import connections_sensor, filter_field_sensor

defs = dg.Definitions(
    assets=[netsuite_customers, netsuite_invoices, resolve_records],
    asset_checks=[sync_freshness, netsuite_authorization_valid],
    jobs=[sync_job, freshness_job, reconnect_check_job],
    schedules=[nightly_sync, hourly_freshness_check, hourly_reconnect_check],
    sensors=[connections_sensor, filter_field_sensor],
    resources={"store": StoreResource(), "netsuite": NetSuiteResource()},
)
