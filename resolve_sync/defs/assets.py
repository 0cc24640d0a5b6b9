"""The three partitioned assets: extract customers, extract invoices, write Resolve records.

Thin wiring: each asset calls one step of `resolve_sync.sync.steps` (the same steps `resolve-sync sync
--local` runs) and turns its result into a `MaterializeResult` with numeric metadata (plotted by the UI)
and check results. Data and counts move between the assets through the store, so each step can run in its
own process or pod.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy import Engine

from resolve_sync.defs import reporting
from resolve_sync.defs.partitions import connections_partitions
from resolve_sync.defs.resources import NetSuiteResource, StoreResource
from resolve_sync.errors import ResolveSyncError
from resolve_sync.names import (
    AS_OF_TAG,
    ASSET_GROUP,
    CUSTOMERS_ASSET,
    DRIFT_CHECK,
    DUPLICATES_CHECK,
    FILTER_CHECK,
    FULL_REFRESH_TAG,
    HELD_BACK_CHECK,
    RECORDS_ASSET,
)
from resolve_sync.netsuite.client import NetSuiteClient
from resolve_sync.store.connections import Connection
from resolve_sync.sync import steps
from resolve_sync.sync.errors import FilterFieldInvalid
from resolve_sync.sync.ledger import RunContext


def _as_of(context: dg.AssetExecutionContext) -> dt.date:
    """The run's logical date: the schedule's date, a backfill's tag, or today for a manual run."""
    tag = context.run.tags.get(AS_OF_TAG)
    return dt.date.fromisoformat(tag) if tag else dt.datetime.now(dt.UTC).date()


@contextmanager
def _step(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> Iterator[tuple[Connection, Engine, NetSuiteClient]]:
    """The partition's connection, store and client; an expected failure becomes a `Failure` in plain words."""
    connection = store.connection(context.partition_key)
    engine = store.engine()
    client = netsuite.client_for(connection, engine)
    try:
        yield connection, engine, client
    except ResolveSyncError as error:
        raise dg.Failure(description=str(error)) from None
    finally:
        client.close()


def _run(
    context: dg.AssetExecutionContext, engine: Engine, client: NetSuiteClient, connection: Connection
) -> RunContext:
    return steps.continue_or_begin(
        client,
        engine,
        connection,
        as_of=_as_of(context),
        full_refresh=context.run.tags.get(FULL_REFRESH_TAG) == "true",
        dagster_run_id=context.run_id,
    )


@dg.asset(
    partitions_def=connections_partitions,
    group_name=ASSET_GROUP,
    kinds={"netsuite"},
    description="Customers of the connection's subsidiary, read from NetSuite and staged in the store.",
    check_specs=[
        dg.AssetCheckSpec(
            FILTER_CHECK,
            asset=CUSTOMERS_ASSET,
            blocking=True,
            description="The filter field exists, is a checkbox and applies to customers.",
        ),
        dg.AssetCheckSpec(
            DUPLICATES_CHECK,
            asset=CUSTOMERS_ASSET,
            blocking=True,
            description="No customer would become a duplicate in Resolve.",
        ),
    ],
)
def netsuite_customers(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> dg.MaterializeResult:
    with _step(context, store, netsuite) as (connection, engine, client):
        try:
            run = _run(context, engine, client, connection)
        except FilterFieldInvalid as invalid:
            context.log.error(str(invalid))
            return reporting.invalid_filter_result(invalid)
        staged = steps.stage_customers(client, engine, run)
        steps.end_of_step(engine, run, context.run_id)
    return reporting.customers_result(connection, staged)


@dg.asset(
    partitions_def=connections_partitions,
    group_name=ASSET_GROUP,
    kinds={"netsuite"},
    deps=[netsuite_customers],
    description="Invoices of the subsidiary dated within 12 months of the run's logical date, staged.",
)
def netsuite_invoices(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> dg.MaterializeResult:
    with _step(context, store, netsuite) as (connection, engine, client):
        staged = steps.stage_invoices(client, engine, _run(context, engine, client, connection))
        steps.end_of_step(engine, staged.run, context.run_id)
    return reporting.invoices_result(staged)


@dg.asset(
    partitions_def=connections_partitions,
    group_name=ASSET_GROUP,
    kinds={"sql"},
    deps=[netsuite_invoices],
    description="Resolve customers and invoices written from the staged NetSuite records.",
    check_specs=[
        dg.AssetCheckSpec(
            HELD_BACK_CHECK,
            asset=RECORDS_ASSET,
            blocking=False,
            description="Invoices held back because their top-level customer is not synced.",
        ),
        dg.AssetCheckSpec(
            DRIFT_CHECK,
            asset=RECORDS_ASSET,
            blocking=False,
            description="NetSuite changes to financed invoices awaiting review.",
        ),
    ],
)
def resolve_records(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> dg.MaterializeResult:
    with _step(context, store, netsuite) as (connection, engine, client):
        written = steps.write_records(engine, _run(context, engine, client, connection))
    return reporting.records_result(connection, written)
