"""Fleet runs: several connections (partitions) synced one after another in one Dagster run.

A run in a deployment is a new Python process that imports dagster, dagster-postgres and this code location
(2-4 s of CPU) before it syncs anything; a no-change nightly sync is about 0.1 s of CPU. So the nightly and
the first syncs of new connections group connections into runs of `sync_batch_job` (`batch_groups`), and
each run pays the start-up once for its group.

What stays per partition, as in a run of `sync_job`:
- each connection is synced by the same steps (`resolve_sync.sync.steps`) in the same order, and is its own
  sync run in the store, with its own lease (R13: a connection another run holds is refused by the store
  and recorded, whatever the run queue did) and the NetSuite account's shared request budget;
- each connection's materialisations of the three assets carry its own metadata, and each check evaluation
  names its partition (`AssetMaterialization(partition=…)` and `AssetCheckEvaluation(partition=…)` logged
  by the op; the UI shows them on the asset's partition and on the check's history exactly like those of
  `sync_job`);
- a connection that fails (a blocking check, NetSuite refusing, a bug) records what it recorded so far and
  the next connection goes on; the run fails at the end, naming every connection that failed and why.

A run of one connection carries the `dagster/partition` tag like any partition run, so the run queue's
per-partition limit applies to it too. A run of several carries `resolve_sync/connections` (their number)
and lists them in its config; there the store's leases are what keeps one run per connection.

Why an op job and not ranged runs of `sync_job` (`BackfillPolicy`): an asset step over a partition range
either yields its output, and then Dagster records a materialisation for every partition of the range, the
failed and disabled ones included and a second time for those the step logged, or yields none, and then
the next asset's step is skipped for every partition; and a failed blocking check fails the whole step.
A ranged run is all or nothing, a fleet run must not be.
"""

import datetime as dt
import hashlib
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg

from resolve_sync.connection_keys import parse_key
from resolve_sync.defs import reporting
from resolve_sync.defs.partitions import connections_partitions
from resolve_sync.defs.resources import NetSuiteResource, StoreResource
from resolve_sync.errors import ResolveSyncError
from resolve_sync.names import (
    AS_OF_TAG,
    CUSTOMERS_ASSET,
    DRIFT_CHECK,
    DUPLICATES_CHECK,
    FILTER_CHECK,
    FULL_REFRESH_TAG,
    HELD_BACK_CHECK,
    INVOICES_ASSET,
    MERCHANT_TAG,
    RECORDS_ASSET,
)

if TYPE_CHECKING:
    from resolve_sync.store.connections import Connection
    from resolve_sync.sync.steps import StepsDone

SYNC_BATCH_JOB = "sync_batch_job"
SYNC_BATCH_OP = "sync_connections"
CONNECTIONS_TAG = "resolve_sync/connections"
PARALLEL_RUNS_ENV = "RESOLVE_SYNC_PARALLEL_RUNS"
CONNECTIONS_PER_RUN_ENV = "RESOLVE_SYNC_CONNECTIONS_PER_RUN"
DEFAULT_PARALLEL_RUNS = 4  # two per core on the 2-core machine the figures were measured on
DEFAULT_CONNECTIONS_PER_RUN = 50
BLOCKING = {FILTER_CHECK: True, DUPLICATES_CHECK: True, HELD_BACK_CHECK: False, DRIFT_CHECK: False}
CHECK_ASSET = {
    FILTER_CHECK: CUSTOMERS_ASSET,
    DUPLICATES_CHECK: CUSTOMERS_ASSET,
    HELD_BACK_CHECK: RECORDS_ASSET,
    DRIFT_CHECK: RECORDS_ASSET,
}


def _setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


def batch_groups(
    keys: Sequence[str], *, parallel_runs: int | None = None, per_run: int | None = None
) -> list[list[str]]:
    """The connections split into runs: at least `parallel_runs` runs (so the run queue keeps the machine's
    cores busy) and at most `per_run` connections in a run; contiguous in key order, sizes within one."""
    parallel_runs = parallel_runs or _setting(PARALLEL_RUNS_ENV, DEFAULT_PARALLEL_RUNS)
    per_run = per_run or _setting(CONNECTIONS_PER_RUN_ENV, DEFAULT_CONNECTIONS_PER_RUN)
    ordered = sorted(keys)
    if not ordered:
        return []
    runs = max(min(len(ordered), parallel_runs), math.ceil(len(ordered) / per_run))
    size, extra = divmod(len(ordered), runs)
    groups, start = [], 0
    for index in range(runs):
        end = start + size + (1 if index < extra else 0)
        groups.append(ordered[start:end])
        start = end
    return groups


def batch_run_config(keys: Sequence[str]) -> dict:
    return {"ops": {SYNC_BATCH_OP: {"config": {"partitions": list(keys)}}}}


def partitions_of(partition_key: str | None, run_config: Mapping | None) -> list[str]:
    """The connections a run (or a run request) syncs: its partition, or the list in a fleet run's config."""
    if partition_key:
        return [partition_key]
    config = (run_config or {}).get("ops", {}).get(SYNC_BATCH_OP, {}).get("config", {})
    return list(config.get("partitions", []))


def batch_request(
    keys: Sequence[str], run_key: str, tags: dict[str, str], *, full_refresh: bool = False
) -> dg.RunRequest:
    """One run for `keys`. A single connection is an ordinary partition run (tag `dagster/partition`, so the
    run queue's per-partition limit holds); several are listed in the run's config."""
    tags = {**tags, **({FULL_REFRESH_TAG: "true"} if full_refresh else {})}
    if len(keys) == 1:
        return dg.RunRequest(
            partition_key=keys[0],
            run_key=run_key,
            tags={**tags, MERCHANT_TAG: parse_key(keys[0]).merchant_id},
        )
    return dg.RunRequest(
        run_key=run_key,
        run_config=batch_run_config(keys),
        tags={**tags, CONNECTIONS_TAG: str(len(keys))},
    )


def group_run_key(prefix: str, keys: Sequence[str]) -> str:
    """A stable run key for a group: its first and last key and a digest of all of them."""
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]
    return f"{prefix}:{keys[0]}..{keys[-1]}:{len(keys)}:{digest}"


@dg.partitioned_config(
    partitions_def=connections_partitions,
    tags_for_partition_key_fn=lambda key: {MERCHANT_TAG: parse_key(key).merchant_id},
)
def batch_config(partition_key: str) -> dict:
    """A run for one partition syncs that partition (as from the job's launchpad or a one-connection group)."""
    return batch_run_config([partition_key])


@dataclass
class _Outcome:
    synced: list[str]
    failed: dict[str, str]
    busy: dict[str, str]
    skipped: dict[str, str]


def _as_of(context: dg.OpExecutionContext) -> dt.date:
    tag = context.run.tags.get(AS_OF_TAG)
    return dt.date.fromisoformat(tag) if tag else dt.datetime.now(dt.UTC).date()


def _materialization(asset: str, key: str, result: dg.MaterializeResult) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(asset_key=asset, partition=key, metadata=dict(result.metadata or {}))


def _evaluation(key: str, result: dg.AssetCheckResult) -> dg.AssetCheckEvaluation:
    name = str(result.check_name)
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(CHECK_ASSET[name]),
        check_name=name,
        passed=result.passed,
        metadata=dict(result.metadata or {}),
        severity=result.severity,
        description=result.description,
        blocking=BLOCKING[name],
        partition=key,
    )


Event = dg.AssetMaterialization | dg.AssetCheckEvaluation


def _events(asset: str, key: str, result: dg.MaterializeResult) -> list[Event]:
    return [_materialization(asset, key, result)] + [_evaluation(key, c) for c in result.check_results or []]


def sync_partition(
    context: dg.OpExecutionContext,
    store: StoreResource,
    netsuite: NetSuiteResource,
    key: str,
    events: list[Event],
    *,
    as_of: dt.date,
    full_refresh: bool,
) -> str | None:
    """One connection, as the three assets sync it; its partition's events are appended to `events` as they
    happen. Returns why it failed (None when it synced)."""
    from resolve_sync.sync import steps
    from resolve_sync.sync.errors import FilterFieldInvalid

    connection = store.connection(key)
    engine = store.engine()
    with steps.attempt_client(
        lambda: netsuite.client_for(connection, engine),
        engine,
        connection,
        as_of=as_of,
        dagster_run_id=context.run_id,
    ) as client:
        try:
            run = steps.begin(
                client,
                engine,
                connection,
                as_of=as_of,
                full_refresh=full_refresh,
                dagster_run_id=context.run_id,
                read_ahead=steps.STREAMS,
            )
        except FilterFieldInvalid as invalid:
            events.extend(_evaluation(key, c) for c in reporting.invalid_filter_checks(invalid))
            return reporting.invalid_filter_failure(invalid)
        done = steps.StepsDone()
        try:
            steps.stage_and_write(client, engine, run, done)
        finally:  # the steps that ended are recorded, also when a later one failed
            events.extend(_step_events(key, connection, done))
    if done.customers is not None and done.customers.blocked:
        return reporting.duplicates_failure(connection, done.customers.duplicates)
    return None


def _step_events(key: str, connection: "Connection", done: "StepsDone") -> list[Event]:
    events: list[Event] = []
    if done.customers is not None:
        events += _events(CUSTOMERS_ASSET, key, reporting.customers_result(connection, done.customers))
    if done.invoices is not None:
        events += _events(INVOICES_ASSET, key, reporting.invoices_result(done.invoices))
    if done.written is not None:
        events += _events(RECORDS_ASSET, key, reporting.records_result(connection, done.written))
    return events


def _failure_text(outcome: _Outcome) -> str:
    lines = [
        f"{len(outcome.failed)} of {len(outcome.failed) + len(outcome.synced)} connection(s) failed; "
        "the others are synced and materialised."
    ]
    lines += [f"- {key}: {reason}" for key, reason in sorted(outcome.failed.items())]
    return "\n".join(lines)


def _table(rows: dict[str, str]) -> str:
    body = "\n".join(
        f"| {k} | {v.splitlines()[0][:300].replace('|', '/')} |" for k, v in sorted(rows.items())
    )
    return "| connection | reason |\n|---|---|\n" + body


@dg.op(
    name=SYNC_BATCH_OP,
    config_schema={"partitions": dg.Field([str], description="Partition keys to sync, in order.")},
    out=dg.Out(dg.Nothing, description="Counts of the run's connections: synced, busy, skipped."),
    description="Syncs each listed connection in turn, as the three assets do for one partition, and logs "
    "each one's materialisations and check results for its own partition.",
)
def sync_connections(
    context: dg.OpExecutionContext, store: StoreResource, netsuite: NetSuiteResource
) -> Iterator[Event | dg.Output]:
    """Yields each connection's events once it is done, so the event log and the UI follow the run. A failed
    blocking check is never left to Dagster's end-of-step enforcement (which names no partition): its
    connection is a failed one, and the op raises its own `Failure` naming each."""
    from resolve_sync.sync.errors import RunAlreadyActive

    keys: list[str] = list(context.op_config["partitions"])
    as_of = _as_of(context)
    full_refresh = context.run.tags.get(FULL_REFRESH_TAG) == "true"
    outcome = _Outcome([], {}, {}, {})
    enabled = {c.partition_key for c in store.connections(enabled_only=True)}
    for key in keys:
        if key not in enabled:
            outcome.skipped[key] = "disabled or removed since the run was requested"
            context.log.info(f"{key}: skipped, {outcome.skipped[key]}")
            continue
        events: list[Event] = []
        try:
            reason = sync_partition(
                context, store, netsuite, key, events, as_of=as_of, full_refresh=full_refresh
            )
        except RunAlreadyActive as busy:
            # Another run is syncing this connection right now (R13, enforced by the store's lease); the
            # refusal is in the run history. That run does what this one would have done.
            outcome.busy[key] = str(busy)
            context.log.warning(f"{key}: not synced by this run: {busy}")
            continue
        except ResolveSyncError as error:
            reason = str(error)
        except Exception as error:  # noqa: BLE001 - one connection's bug must not hide the others' results
            context.log.exception(f"{key}: unexpected error")
            reason = f"{type(error).__name__}: {error}"
        yield from events  # what the connection recorded, also when it then failed
        if reason is None:
            outcome.synced.append(key)
        else:
            outcome.failed[key] = reason
            context.log.error(f"{key}: {reason}")
    counts = {
        "connections": len(keys),
        "synced": len(outcome.synced),
        "failed": len(outcome.failed),
        "busy": len(outcome.busy),
        "skipped": len(outcome.skipped),
    }
    if outcome.failed:
        raise dg.Failure(
            description=_failure_text(outcome),
            metadata={**counts, "failures": dg.MetadataValue.md(_table(outcome.failed))},
        )
    yield dg.Output(None, metadata=counts)


@dg.job(
    name=SYNC_BATCH_JOB,
    config=batch_config,
    executor_def=dg.in_process_executor,
    description="Sync several connections in one run (the nightly and first syncs of a fleet); each "
    "connection's materialisations and checks are recorded on its own partition.",
)
def sync_batch_job() -> None:
    sync_connections()
