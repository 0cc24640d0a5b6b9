"""`resolve-sync sync` (R14: a manual sync at any time) and `resolve-sync status`.

The store, httpx and the sync itself are imported inside the commands, so `resolve-sync status --help`
(and every other command that does not sync) starts at click's speed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shlex
import signal
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from resolve_sync.cli.output import json_option, subsidiary_option, timestamp
from resolve_sync.errors import RemoteError, ResolveSyncError
from resolve_sync.kinds import Outcome
from resolve_sync.names import CODE_LOCATION, PARTITION_TAG, SYNC_JOB
from resolve_sync.validation import redact_url

if TYPE_CHECKING:
    from resolve_sync.store.connections import Connection
    from resolve_sync.store.run_history import RecordOutcome, RunSummary
    from resolve_sync.sync.cancellation import Cancellation

WEBSERVER_ENV = "DAGSTER_WEBSERVER_URL"
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""
STATUS = """query Status($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"""
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


class WebserverUnavailable(RemoteError):
    """The Dagster webserver that `sync` submits to is not running or not reachable."""


class RunFailed(ResolveSyncError):
    """The submitted Dagster run ended in failure; the message carries the ledger's reason."""


def graphql(url: str, query: str, variables: dict[str, Any], *, local_command: str = "") -> dict[str, Any]:
    import httpx

    try:
        response = httpx.post(
            f"{url.rstrip('/')}/graphql", json={"query": query, "variables": variables}, timeout=60
        )
        response.raise_for_status()
    except httpx.TransportError as error:
        raise WebserverUnavailable(
            f"Cannot reach the Dagster webserver at {redact_url(url)} ({type(error).__name__}).",
            hint="Start it with `make dev` in another terminal, or run the sync in this process: "
            f"`{local_command or 'resolve-sync sync MERCHANT --local'}`.",
        ) from None
    except httpx.HTTPStatusError as error:
        raise WebserverUnavailable(
            f"The Dagster webserver at {redact_url(url)} answered {error.response.status_code} to GraphQL.",
            hint=f"Is {redact_url(url)} a Dagster webserver? Set --webserver or {WEBSERVER_ENV}.",
        ) from None
    body = response.json()
    if body.get("errors"):
        raise RemoteError(f"Dagster GraphQL error at {redact_url(url)}: {body['errors'][0].get('message')}")
    return body["data"]


def launch_partition_run(
    url: str,
    partition_key: str,
    tags: dict[str, str],
    *,
    location: str = CODE_LOCATION,
    job: str = SYNC_JOB,
    local_command: str = "",
) -> str:
    """Submit the partition's sync as the UI does: queued under the instance's run limits, shown in the UI."""
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": "__repository__", "jobName": job},
        "executionMetadata": {
            "tags": [{"key": k, "value": v} for k, v in {**tags, PARTITION_TAG: partition_key}.items()]
        },
    }
    result = graphql(url, LAUNCH, {"params": params}, local_command=local_command)["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        detail = result.get("message") or result.get("errors") or result["__typename"]
        raise RemoteError(
            f"{partition_key}: the Dagster webserver at {redact_url(url)} refused the run: {detail}"
        )
    return result["run"]["runId"]


def wait_for(url: str, run_id: str, *, poll_seconds: float = 2.0, timeout_seconds: float = 6 * 3600) -> str:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        status = graphql(url, STATUS, {"id": run_id})["runOrError"].get("status")
        if status in TERMINAL:
            return status
        time.sleep(poll_seconds)
    raise RemoteError(
        f"run {run_id} did not finish within {timeout_seconds / 3600:.0f} h; follow it at {redact_url(url)}/runs/{run_id}"
    )


def failure_reason(run_id: str) -> str:
    from resolve_sync.store import run_history
    from resolve_sync.store.database import store_engine

    return run_history.failure_of_dagster_run(store_engine(), run_id) or "see the run in the Dagster UI"


@contextlib.contextmanager
def stop_on_signals(cancel: Cancellation) -> Iterator[None]:
    """SIGINT and SIGTERM ask the local run to stop at its next safe point instead of raising wherever the
    main thread happens to be; the previous handlers come back afterwards."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: cancel.request_for_signal(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def sync_command(connection: Connection, *extra: str) -> str:
    """`resolve-sync sync …` for this connection, runnable as printed."""
    from resolve_sync.sync.scope import subsidiary_option as subsidiary_flag

    return f"resolve-sync sync {connection.merchant_id}{subsidiary_flag(connection)}" + "".join(
        f" {shlex.quote(e)}" for e in extra
    )


def counts_line(counts: dict[str, Any]) -> str:
    """Customers and invoices apart: 'customers: created 3, updated 1 · invoices: created 9, held back 2'."""
    parts = []
    for kind in ("customers", "invoices"):
        read = int(counts.get(f"{kind}_read", 0) or 0)
        done = [f"read {read}"] + [
            f"{outcome.replace('_', ' ')} {counts[f'{kind}_{outcome}']}"
            for outcome in ("created", "updated", "unchanged", "frozen", "held_back", "invalid", "skipped")
            if int(counts.get(f"{kind}_{outcome}", 0) or 0)
        ]
        parts.append(f"{kind}: " + ", ".join(done))
    archived = [f"{k} {counts[k]}" for k in ("archived", "unarchived") if int(counts.get(k, 0) or 0)]
    return " · ".join(parts + archived)


@click.command()
@click.argument("merchant")
@subsidiary_option
@click.option("--full-refresh", is_flag=True, help="Re-read everything instead of only what changed.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The run's logical date (the invoice window ends here). Default: today.",
)
@click.option(
    "--local", is_flag=True, help="Run in this process instead of submitting to the Dagster webserver."
)
@click.option("--webserver", envvar=WEBSERVER_ENV, default="http://127.0.0.1:3000", show_default=True)
@click.option("--no-wait", is_flag=True, help="Submit and return without following the run.")
def sync(
    merchant: str,
    subsidiary: str | None,
    full_refresh: bool,
    as_of: dt.datetime | None,
    local: bool,
    webserver: str,
    no_wait: bool,
) -> None:
    """Sync one connection now (R14). Exits non-zero when the run fails, with the reason."""
    from resolve_sync.store.connections import pick_connection
    from resolve_sync.store.database import store_engine

    engine = store_engine()
    connection = pick_connection(engine, merchant, subsidiary)
    day = as_of.date() if as_of else dt.datetime.now(dt.UTC).date()
    if local:
        from resolve_sync.sync.cancellation import Cancellation
        from resolve_sync.sync.clients import client_for
        from resolve_sync.sync.steps import attempt_client, run_sync

        cancel = (
            Cancellation()
        )  # Ctrl-C / SIGTERM: stop at the next safe point, recorded `cancelled` (130/143)
        with (
            stop_on_signals(cancel),
            attempt_client(lambda: client_for(connection, engine), engine, connection, as_of=day) as client,
        ):
            report = run_sync(client, engine, connection, as_of=day, full_refresh=full_refresh, cancel=cancel)
        click.echo(
            f"{connection.partition_key}: {report.mode} sync succeeded (run {report.run_id}): "
            + counts_line(report.counts)
        )
        return
    from resolve_sync.defs.partitions import run_tags

    options = [*(["--full-refresh"] if full_refresh else []), *(["--as-of", str(day)] if as_of else [])]
    tags = run_tags(connection.partition_key, full_refresh=full_refresh, as_of=day.isoformat())
    run_id = launch_partition_run(
        webserver, connection.partition_key, tags, local_command=sync_command(connection, *options, "--local")
    )
    click.echo(f"{connection.partition_key}: submitted run {run_id} ({redact_url(webserver)}/runs/{run_id})")
    if no_wait:
        return
    status = wait_for(webserver, run_id)
    if status != "SUCCESS":
        raise RunFailed(
            f"{connection.partition_key}: run {run_id} {status.lower()}: {failure_reason(run_id)}",
            merchant_id=connection.merchant_id,
        )
    click.echo(f"{connection.partition_key}: run {run_id} succeeded ({redact_url(webserver)}/runs/{run_id})")


# -- status -------------------------------------------------------------------------------------------------

ATTENTION = (Outcome.HELD_BACK, Outcome.INVALID, Outcome.FROZEN)
MAX_RUNS_SHOWN = 1000
# Outcomes the sync counts but does not record per record (see sync/writer.py write_actions).
NOT_LISTED = (Outcome.UNCHANGED.value, Outcome.SKIPPED.value)
MAX_ID = 2**63 - 1  # the databases' BIGINT: a larger number is a typo, not a store failure


def _outcome_list(value: str | None) -> list[Outcome] | None:
    """`held_back,invalid` → the outcomes; `all` → None (no filter); unknown words are a usage error."""
    if value is None:
        return list(ATTENTION)
    words = [w.strip() for w in value.split(",") if w.strip()]
    if not words:
        raise click.BadParameter(
            "give 'all' or outcomes separated by commas, e.g. held_back,invalid", param_hint="--outcome"
        )
    if words == ["all"]:
        return None
    known = {o.value for o in Outcome} - set(NOT_LISTED)
    counted = [w for w in words if w in NOT_LISTED]
    if counted:
        raise click.BadParameter(
            f"{', '.join(counted)}: counted per run (`resolve-sync status`), not written down record by record "
            "(the sync leaves those records as they are); `resolve-sync explain MERCHANT netsuite:ID` tells "
            "one record's story",
            param_hint="--outcome",
        )
    unknown = [w for w in words if w not in known]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)}: use 'all' or a comma-separated list of {', '.join(sorted(known))}",
            param_hint="--outcome",
        )
    return [Outcome(w) for w in words]


def run_document(run: RunSummary) -> dict[str, Any]:
    return {
        "run": run.id,
        "dagster_run": run.dagster_run_id,
        "status": str(run.status),
        "mode": str(run.mode),
        "as_of": run.as_of.isoformat(),
        "started": timestamp(run.started_at),
        "finished": timestamp(run.finished_at),
        "counts": run.counts,
        "error": run.error,
    }


def outcome_document(record: RecordOutcome) -> dict[str, Any]:
    return {
        "run": record.run_id,
        "kind": str(record.record_kind),
        "netsuite_id": record.netsuite_id,
        "resolve_id": record.resolve_id,
        "outcome": str(record.outcome),
        "reason": record.reason,
    }


@click.command()
@click.option("--merchant", default=None, help="Only this merchant's connections.")
@subsidiary_option
@click.option(
    "--runs",
    "runs",
    type=click.IntRange(min=1, max=MAX_RUNS_SHOWN),
    default=1,
    show_default=True,
    help="Runs to show per connection.",
)
@click.option(
    "--outcomes",
    is_flag=True,
    help="Per-record outcomes with reasons: the latest the sync recorded for each record, or --run's.",
)
@click.option(
    "--outcome",
    "outcome_filter",
    default=None,
    metavar="LIST",
    help="With --outcomes: held_back,invalid,frozen (the default), or any of created, updated, or 'all'. "
    "Unchanged and skipped records are counted per run, not listed.",
)
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(min=1, max=MAX_ID),
    default=None,
    help="With --outcomes: this run's records.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0, max=MAX_ID),
    default=50,
    show_default=True,
    help="With --outcomes: at most this many records (0: all).",
)
@json_option
def status(
    merchant: str | None,
    subsidiary: str | None,
    runs: int,
    outcomes: bool,
    outcome_filter: str | None,
    run_id: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """Each connection's last run: status, counts and the error in full. --outcomes lists records."""
    from resolve_sync import validation
    from resolve_sync.connection_keys import validate_subsidiary_id
    from resolve_sync.store import run_history
    from resolve_sync.store.connection_records import list_connections
    from resolve_sync.store.reads import open_reads

    if merchant is not None:
        validation.merchant_id(merchant)
    wanted = _outcome_list(outcome_filter)
    outcomes = outcomes or run_id is not None or outcome_filter is not None
    engine = open_reads()
    selected = [
        c
        for c in list_connections(engine)
        if (merchant is None or c.merchant_id == merchant)
        and (subsidiary is None or c.subsidiary_id == validate_subsidiary_id(subsidiary))
    ]
    if merchant is not None and not selected:
        raise click.UsageError(
            f"no connection of merchant {merchant!r}"
            + (f" with subsidiary {subsidiary}" if subsidiary else "")
            + "; `resolve-sync connections list` shows them."
        )
    history = {c.partition_key: run_history.last_runs(engine, c.id, max(runs, 1)) for c in selected}
    succeeded = run_history.last_success(engine, [c.id for c in selected])
    document: dict[str, Any] = {
        "connections": [
            {
                "connection": c.partition_key,
                "enabled": c.enabled,
                "filter_field": c.filter_field_id,
                # A refused attempt after a good run must not make the connection look broken.
                "last_success": timestamp(succeeded[c.id]) if c.id in succeeded else None,
                "runs": [run_document(r) for r in history[c.partition_key]],
            }
            for c in selected
        ]
    }
    if outcomes:
        if run_id is not None:
            run = run_history.get_run(engine, run_id)
            if run is None:
                raise click.BadParameter(
                    f"run {run_id} does not exist; `resolve-sync status` shows the runs", param_hint="--run"
                )
            owners = {c.id: c.partition_key for c in selected}
            if run.connection_id not in owners:
                raise click.BadParameter(
                    f"run {run_id} is not a run of the connection(s) chosen "
                    f"({', '.join(owners.values()) or 'none'}); leave out --merchant/--subsidiary, or pick "
                    "a run that `resolve-sync status --runs N` lists for them",
                    param_hint="--run",
                )
            run_ids = [run_id]
            totals = run_history.outcome_totals(engine, run_ids)
            records = run_history.record_outcomes(
                engine, run_ids, outcomes=wanted, limit=limit if limit > 0 else None
            )
        else:
            run_ids = [h[0].id for h in history.values() if h]
            connection_ids = [c.id for c in selected]
            totals = run_history.current_outcome_totals(engine, connection_ids)
            records = run_history.current_outcomes(
                engine, connection_ids, outcomes=wanted, limit=limit if limit > 0 else None
            )
        matching = sum(n for (_, o), n in totals.items() if wanted is None or o in wanted)
        document["outcomes"] = {
            "of": f"run {run_id}" if run_id is not None else "latest per record",
            "runs": run_ids,
            "outcome_filter": [str(o) for o in wanted] if wanted is not None else "all",
            "totals": _totals_document(totals),
            "matching": matching,
            "shown": len(records),
            "records": [outcome_document(r) for r in records],
        }
    if as_json:
        click.echo(json.dumps(document, indent=2, default=str))
        return
    _print_status(document, runs)


def _totals_document(totals: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    by_kind: dict[str, dict[str, int]] = {}
    for (kind, outcome), n in sorted(totals.items()):
        by_kind.setdefault(f"{kind}s", {})[outcome] = n
    return by_kind


def _print_status(document: dict[str, Any], runs: int) -> None:
    if not document["connections"]:
        click.echo("no connections yet; add one with `resolve-sync connections add`.")
    for connection in document["connections"]:
        enabled = "" if connection["enabled"] else " (disabled)"
        filter_field = connection["filter_field"] or "none"
        click.echo(f"{connection['connection']}{enabled}  filter: {filter_field}")
        if not connection["runs"]:
            click.echo("  no runs yet")
        for run in connection["runs"][: max(runs, 1)]:
            dagster = f", Dagster run {run['dagster_run']}" if run["dagster_run"] else ""
            finished = f", finished {run['finished']}" if run["finished"] else ""
            click.echo(
                f"  run {run['run']}: {run['status']} ({run['mode']}, as of {run['as_of']}{dagster}), "
                f"started {run['started']}{finished}"
            )
            if run["counts"]:
                click.echo(f"    {counts_line(run['counts'])}")
            if run["error"]:
                click.echo(f"    error: {run['error']}")
        if connection["runs"] and all(r["status"] != "succeeded" for r in connection["runs"][: max(runs, 1)]):
            click.echo(f"  last successful sync: {connection['last_success'] or 'never'}")
    outcomes = document.get("outcomes")
    if outcomes is None:
        return
    click.echo("")
    if not outcomes["runs"]:
        click.echo("no runs yet: no outcomes to show")
        return
    if outcomes["of"] == "latest per record":
        click.echo("outcomes: the latest the sync recorded for each record (`--run ID` shows one run's):")
    else:
        click.echo(f"outcomes of {outcomes['of']}:")
    for kind, by_outcome in outcomes["totals"].items():
        click.echo(f"  {kind}: " + ", ".join(f"{o.replace('_', ' ')} {n}" for o, n in by_outcome.items()))
    chosen = outcomes["outcome_filter"]
    label = "all outcomes" if chosen == "all" else ", ".join(chosen)
    click.echo(f"records ({label}): showing {outcomes['shown']} of {outcomes['matching']}")
    if outcomes["shown"] < outcomes["matching"]:
        click.echo("  (--limit 0 shows all; --outcome picks others)")
    for record in outcomes["records"]:
        reason = f": {record['reason']}" if record["reason"] else ""
        click.echo(
            f"  run {record['run']} {record['kind']} {record['netsuite_id']} {record['outcome']}{reason}"
        )
