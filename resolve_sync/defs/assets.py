"""The three partitioned assets: extract customers, extract invoices, write Resolve records.

Thin wiring: each asset calls one step of `resolve_sync.sync.steps` (the same steps `resolve-sync sync
--local` runs) and turns its result into a `MaterializeResult` with numeric metadata (plotted by the UI)
and check results. Data and counts move between the assets through the store, so each step can run in its
own process or pod.

What the UI shows is part of the design:
- the checks are partitioned like their assets, so every evaluation names its partition (`demo|3`) and
  the partitions' histories do not mix;
- a failing blocking check fails its step with a `Failure` whose text says which check failed, why, and
  the command that fixes it (instead of Dagster's generic "blocking check failed");
- a step that read nothing (an invalid filter field) records no materialisation, only the failed check.
"""

import datetime as dt
import warnings
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
    try:
        # A client that cannot be built (credentials that do not decrypt, a variable not set) is an
        # attempt the run history records, as for `sync --local`.
        with steps.attempt_client(
            lambda: netsuite.client_for(connection, engine),
            engine,
            connection,
            as_of=_as_of(context),
            dagster_run_id=context.run_id,
        ) as client:
            yield connection, engine, client
    except ResolveSyncError as error:
        raise dg.Failure(description=str(error)) from None


def _check(name: str, asset: str, *, blocking: bool, description: str) -> dg.AssetCheckSpec:
    """A check partitioned like its asset (a preview feature in dagster 1.13; its warning is silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name,
            asset=asset,
            blocking=blocking,
            description=description,
            partitions_def=connections_partitions,
        )


def _run(
    context: dg.AssetExecutionContext,
    engine: Engine,
    client: NetSuiteClient,
    connection: Connection,
    read_ahead: tuple[str, ...] = (),
) -> RunContext:
    return steps.continue_or_begin(
        client,
        engine,
        connection,
        as_of=_as_of(context),
        full_refresh=context.run.tags.get(FULL_REFRESH_TAG) == "true",
        dagster_run_id=context.run_id,
        read_ahead=read_ahead,
    )


@dg.asset(
    partitions_def=connections_partitions,
    group_name=ASSET_GROUP,
    kinds={"netsuite"},
    description="Customers of the connection's subsidiary, read from NetSuite and kept for the next steps.",
    check_specs=[
        _check(
            FILTER_CHECK,
            CUSTOMERS_ASSET,
            blocking=True,
            description="The connection's filter field exists in NetSuite, is a checkbox and applies to "
            "customers. If not, nothing is synced until it is fixed.",
        ),
        _check(
            DUPLICATES_CHECK,
            CUSTOMERS_ASSET,
            blocking=True,
            description="No customer would become a duplicate in Resolve (same business name or billing "
            "email). If one would, nothing is written until an operator links the pair or marks it distinct.",
        ),
    ],
    output_required=False,  # an invalid filter field: nothing was read, so nothing is materialised
)
def netsuite_customers(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    with _step(context, store, netsuite) as (connection, engine, client):
        try:
            run = _run(context, engine, client, connection, read_ahead=("customers",))
        except FilterFieldInvalid as invalid:
            yield from reporting.invalid_filter_checks(invalid)
            raise dg.Failure(description=reporting.invalid_filter_failure(invalid)) from None
        staged = steps.stage_customers(client, engine, run)
        steps.end_of_step(engine, run, context.run_id)
    yield reporting.customers_result(connection, staged)
    if staged.blocked:
        raise dg.Failure(description=reporting.duplicates_failure(connection, staged.duplicates))


@dg.asset(
    partitions_def=connections_partitions,
    group_name=ASSET_GROUP,
    kinds={"netsuite"},
    deps=[netsuite_customers],
    description="Invoices of the subsidiary dated within 12 months of the run's date, read from NetSuite.",
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
        _check(
            HELD_BACK_CHECK,
            RECORDS_ASSET,
            blocking=False,
            description="Warns when records could not be written yet, e.g. invoices whose top-level "
            "customer is not synced. They are kept out, never attached to the wrong customer.",
        ),
        _check(
            DRIFT_CHECK,
            RECORDS_ASSET,
            blocking=False,
            description="Warns when NetSuite changed invoices that are financed in Resolve; those invoices "
            "are never changed by a sync, and the changes wait for review.",
        ),
    ],
)
def resolve_records(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> dg.MaterializeResult:
    with _step(context, store, netsuite) as (connection, engine, client):
        written = steps.write_records(engine, _run(context, engine, client, connection))
    return reporting.records_result(connection, written)
