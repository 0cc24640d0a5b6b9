"""The three partitioned assets: extract customers, extract invoices, write Resolve records.

Thin wiring: every decision is made in `resolve_sync.sync`; these functions load the partition's
connection, call the step, and report counts as numeric metadata (plotted by the UI) and checks.
Data moves between the assets through the store's staging tables, so each step can run in its own
process or pod.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from resolve_sync.defs.partitions import AS_OF_TAG, FULL_REFRESH_TAG, connections_partitions
from resolve_sync.defs.resources import NetSuiteResource, StoreResource
from resolve_sync.netsuite.client import NetSuiteClient
from resolve_sync.netsuite.errors import NetSuiteError
from resolve_sync.store.connections import Connection
from resolve_sync.store.models import InvoiceDrift, SyncRecordOutcome, SyncRun
from resolve_sync.sync.apply import apply_run, duplicate_pairs, fail_run, finish_run, record_rejected_run
from resolve_sync.sync.duplicates import DuplicatePair
from resolve_sync.sync.errors import FilterFieldInvalid, SyncConfigError
from resolve_sync.sync.extract import RunContext, extract_customers, extract_invoices, load_run
from resolve_sync.sync.runner import COUNT_NAMES, prepare, report_counts

GROUP = "resolve_sync"
FILTER_CHECK, DUPLICATES_CHECK = "filter_field_id_valid", "no_duplicate_customers"
HELD_BACK_CHECK, DRIFT_CHECK = "invoices_held_back", "financed_invoice_drift"


def _as_of(context: dg.AssetExecutionContext) -> dt.date:
    """The run's logical date: the schedule's date, a backfill's tag, or today for a manual run."""
    tag = context.run.tags.get(AS_OF_TAG)
    return dt.date.fromisoformat(tag) if tag else dt.datetime.now(dt.UTC).date()


@contextmanager
def _step(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> Iterator[tuple[Connection, Engine, NetSuiteClient]]:
    connection = store.connection(context.partition_key)
    engine = store.engine()
    client = netsuite.client_for(connection, engine)
    try:
        yield connection, engine, client
    except (SyncConfigError, NetSuiteError) as error:
        raise dg.Failure(description=str(error)) from None
    except DBAPIError as error:
        raise dg.Failure(
            description=(
                f"The Resolve store failed during this step ({type(error.orig).__name__ if error.orig else 'error'}); "
                "batches committed before it stand. Re-run the partition once the database is back."
            )
        ) from None
    finally:
        client.close()


def _prepare(
    context: dg.AssetExecutionContext, engine: Engine, client: NetSuiteClient, connection: Connection
) -> RunContext:
    """Validate (R2, R11) and start the sync run for this Dagster run, with the options its tags carry."""
    return prepare(
        client,
        engine,
        connection,
        as_of=_as_of(context),
        full_refresh=context.run.tags.get(FULL_REFRESH_TAG) == "true",
        dagster_run_id=context.run_id,
    )


def _current_run(
    context: dg.AssetExecutionContext, engine: Engine, client: NetSuiteClient, connection: Connection
) -> RunContext:
    """The sync run this Dagster run started; a step materialised on its own starts one."""
    with engine.connect() as db:
        run_id = db.scalar(
            select(func.max(SyncRun.id)).where(
                SyncRun.connection_id == connection.id, SyncRun.dagster_run_id == context.run_id
            )
        )
    if run_id is not None:
        return load_run(engine, connection, run_id)
    return _prepare(context, engine, client, connection)


def duplicates_markdown(pairs: list[DuplicatePair], merchant_id: str) -> str:
    lines = ["| left | right | matched on | resolve with |", "|---|---|---|---|"]
    for pair in pairs[:100]:
        left, right = pair.keys
        lines.append(
            f"| {left} ({_cell(pair.left.name)}) | {right} ({_cell(pair.right.name)}) | {pair.matched_on} | "
            f"`resolve-sync duplicates distinct {merchant_id} {left} {right}` or `… link …` |"
        )
    if len(pairs) > 100:
        lines.append(f"| … {len(pairs) - 100} more | | | `resolve-sync duplicates list {merchant_id}` |")
    return "\n".join(lines)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "/")[:60]


@dg.asset(
    partitions_def=connections_partitions,
    group_name=GROUP,
    kinds={"netsuite"},
    description="Customers of the connection's subsidiary, read from NetSuite and staged in the store (R1, R5, R9).",
    check_specs=[
        dg.AssetCheckSpec(
            FILTER_CHECK,
            asset="netsuite_customers",
            blocking=True,
            description="The filter field exists, is a checkbox and applies to customers (R11).",
        ),
        dg.AssetCheckSpec(
            DUPLICATES_CHECK,
            asset="netsuite_customers",
            blocking=True,
            description="No customer would become a duplicate in Resolve (R12).",
        ),
    ],
)
def netsuite_customers(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> dg.MaterializeResult:
    with _step(context, store, netsuite) as (connection, engine, client):
        try:
            run = _prepare(context, engine, client, connection)
        except SyncConfigError as rejected:
            record_rejected_run(
                engine, connection, as_of=_as_of(context), error=rejected, dagster_run_id=context.run_id
            )
            if not isinstance(rejected, FilterFieldInvalid):
                raise
            context.log.error(str(rejected))
            return dg.MaterializeResult(
                metadata={"filter_field_id": rejected.field_id},
                check_results=[
                    dg.AssetCheckResult(
                        check_name=FILTER_CHECK,
                        passed=False,
                        severity=dg.AssetCheckSeverity.ERROR,
                        description=f"Filter field {rejected.field_id!r} is invalid: {rejected.reason}",
                        metadata={"field": rejected.field_id, "reason": rejected.reason},
                    ),
                    dg.AssetCheckResult(
                        check_name=DUPLICATES_CHECK,
                        passed=True,
                        severity=dg.AssetCheckSeverity.ERROR,
                        description="Not evaluated: the filter field is invalid.",
                    ),
                ],
            )
        extracted = extract_customers(client, engine, run)
        pairs = duplicate_pairs(engine, run.connection)
        if pairs:
            fail_run(
                engine, run.run_id, SyncConfigError(f"{len(pairs)} duplicate customer pair(s) to resolve")
            )
        metadata: dict[str, Any] = {
            **extracted,
            "mode": run.mode,
            "sync_run_id": run.run_id,
            "netsuite_requests": client.stats.requests,
            "retries": client.stats.retries,
        }
    filter_text = (
        f"Filter field {connection.filter_field_id!r} is valid."
        if connection.filter_field_id
        else "No filter field: every customer of the subsidiary is synced."
    )
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=FILTER_CHECK,
                passed=True,
                description=filter_text,
                metadata={"field": connection.filter_field_id or "(none)"},
            ),
            dg.AssetCheckResult(
                check_name=DUPLICATES_CHECK,
                passed=not pairs,
                severity=dg.AssetCheckSeverity.ERROR,
                description=(
                    f"{len(pairs)} customer pair(s) would be duplicates in Resolve; resolve them with "
                    f"`resolve-sync duplicates link|distinct {connection.merchant_id} LEFT RIGHT`."
                )
                if pairs
                else "No duplicates.",
                metadata={
                    "pairs": len(pairs),
                    **(
                        {
                            "duplicates": dg.MetadataValue.md(
                                duplicates_markdown(pairs, connection.merchant_id)
                            )
                        }
                        if pairs
                        else {}
                    ),
                },
            ),
        ],
    )


@dg.asset(
    partitions_def=connections_partitions,
    group_name=GROUP,
    kinds={"netsuite"},
    deps=[netsuite_customers],
    description="Invoices of the subsidiary dated within 12 months of the run's logical date, staged (R1).",
)
def netsuite_invoices(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> dg.MaterializeResult:
    with _step(context, store, netsuite) as (connection, engine, client):
        run = _current_run(context, engine, client, connection)
        try:
            extracted = extract_invoices(client, engine, run)
        except BaseException as error:
            fail_run(engine, run.run_id, error)
            raise
        return dg.MaterializeResult(
            metadata={
                **extracted,
                "mode": run.mode,
                "sync_run_id": run.run_id,
                "window_start": run.invoice_window_start.isoformat(),
                "netsuite_requests": client.stats.requests,
                "retries": client.stats.retries,
            }
        )


def summary_markdown(connection: Connection, mode: str, counts: dict[str, Any]) -> str:
    rows = "\n".join(f"| {name.replace('_', ' ')} | {counts.get(name, 0)} |" for name in COUNT_NAMES)
    return (
        f"**{connection.partition_key}** ({mode} sync, filter: {connection.filter_field_id or 'none'})\n\n"
        f"| count | value |\n|---|---|\n{rows}"
    )


@dg.asset(
    partitions_def=connections_partitions,
    group_name=GROUP,
    kinds={"sql"},
    deps=[netsuite_invoices],
    description="Resolve customers and invoices written from the staged NetSuite records (R5–R8, R15, R17).",
    check_specs=[
        dg.AssetCheckSpec(
            HELD_BACK_CHECK,
            asset="resolve_records",
            blocking=False,
            description="Invoices held back because their top-level customer is not synced (R5).",
        ),
        dg.AssetCheckSpec(
            DRIFT_CHECK,
            asset="resolve_records",
            blocking=False,
            description="NetSuite changes to financed invoices awaiting review (R8).",
        ),
    ],
)
def resolve_records(
    context: dg.AssetExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> dg.MaterializeResult:
    with _step(context, store, netsuite) as (connection, engine, client):
        run = _current_run(context, engine, client, connection)
        try:
            applied = apply_run(engine, run)
        except BaseException as error:
            fail_run(engine, run.run_id, error)
            raise
        with engine.connect() as db:
            extracted = Counter()
            for materialization in _run_metadata(context):
                extracted.update(materialization)
            held = db.execute(
                select(SyncRecordOutcome.netsuite_id, SyncRecordOutcome.reason)
                .where(
                    SyncRecordOutcome.run_id == run.run_id,
                    SyncRecordOutcome.outcome == "held_back",
                    SyncRecordOutcome.record_kind == "invoice",
                )
                .limit(50)
            ).all()
            open_drift = (
                db.scalar(
                    select(func.count())
                    .select_from(InvoiceDrift)
                    .where(
                        InvoiceDrift.merchant_id == connection.merchant_id, InvoiceDrift.reviewed_at.is_(None)
                    )
                )
                or 0
            )
        counts = report_counts(
            applied,
            dict(extracted),
            {
                "requests": extracted.get("netsuite_requests", 0) + client.stats.requests,
                "retries": extracted.get("retries", 0) + client.stats.retries,
            },
        )
        finish_run(engine, run, counts)
    metadata: dict[str, Any] = {name: int(counts.get(name, 0)) for name in (*COUNT_NAMES, "written")}
    metadata["summary"] = dg.MetadataValue.md(summary_markdown(connection, run.mode, counts))
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=HELD_BACK_CHECK,
                passed=counts.get("held_back", 0) == 0,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{counts.get('held_back', 0)} invoice(s) held back; "
                "`resolve-sync status` lists them with reasons.",
                metadata={
                    "held_back": int(counts.get("held_back", 0)),
                    "examples": dg.MetadataValue.md(
                        "\n".join(f"- invoice {r.netsuite_id}: {r.reason}" for r in held) or "none"
                    ),
                },
            ),
            dg.AssetCheckResult(
                check_name=DRIFT_CHECK,
                passed=open_drift == 0,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{open_drift} financed-invoice change(s) to review "
                f"(`resolve-sync drift list {connection.merchant_id}`).",
                metadata={"open_drift": int(open_drift), "frozen_this_run": int(counts.get("frozen", 0))},
            ),
        ],
    )


def _run_metadata(context: dg.AssetExecutionContext) -> Iterator[dict[str, int]]:
    """Numeric metadata the extract steps of this same run reported (read counts, requests, retries)."""
    for key in (netsuite_customers.key, netsuite_invoices.key):
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[context.partition_key]), limit=1
        ).records
        for record in records:
            if record.run_id != context.run_id:
                continue
            materialization = record.asset_materialization
            if materialization is None:
                continue
            yield {
                name: value.value
                for name, value in materialization.metadata.items()
                if isinstance(getattr(value, "value", None), int)
                and not isinstance(value.value, bool)
                and name not in ("sync_run_id",)
            }
