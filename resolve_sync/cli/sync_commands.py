"""`resolve-sync sync` (R14: a manual sync at any time) and `resolve-sync status`."""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import click
import httpx

from resolve_sync.cli.output import emit, json_option, subsidiary_option
from resolve_sync.defs.partitions import run_tags
from resolve_sync.names import CODE_LOCATION, PARTITION_TAG, SYNC_JOB
from resolve_sync.store import run_history
from resolve_sync.store.connections import list_connections, pick_connection
from resolve_sync.store.database import store_engine
from resolve_sync.sync.cancellation import Cancellation, RunCancelled
from resolve_sync.sync.clients import client_for
from resolve_sync.sync.steps import COUNT_NAMES, attempt_client, run_sync

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


def graphql(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{url.rstrip('/')}/graphql", json={"query": query, "variables": variables}, timeout=60
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise click.ClickException(f"Dagster GraphQL error: {body['errors'][0].get('message')}")
    return body["data"]


def launch_partition_run(
    url: str,
    partition_key: str,
    tags: dict[str, str],
    *,
    location: str = CODE_LOCATION,
    job: str = SYNC_JOB,
) -> str:
    """Submit the partition's sync as the UI does: queued under the instance's run limits, shown in the UI."""
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": "__repository__", "jobName": job},
        "executionMetadata": {
            "tags": [{"key": k, "value": v} for k, v in {**tags, PARTITION_TAG: partition_key}.items()]
        },
    }
    result = graphql(url, LAUNCH, {"params": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        detail = result.get("message") or result.get("errors") or result["__typename"]
        raise click.ClickException(f"Dagster refused the run: {detail}")
    return result["run"]["runId"]


def wait_for(url: str, run_id: str, *, poll_seconds: float = 2.0, timeout_seconds: float = 6 * 3600) -> str:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        status = graphql(url, STATUS, {"id": run_id})["runOrError"].get("status")
        if status in TERMINAL:
            return status
        time.sleep(poll_seconds)
    raise click.ClickException(f"run {run_id} did not finish within {timeout_seconds / 3600:.0f} h")


def failure_reason(run_id: str) -> str:
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
    engine = store_engine()
    connection = pick_connection(engine, merchant, subsidiary)
    day = as_of.date() if as_of else dt.datetime.now(dt.UTC).date()
    if local:
        cancel = Cancellation()
        try:
            with (
                stop_on_signals(cancel),
                attempt_client(
                    lambda: client_for(connection, engine), engine, connection, as_of=day
                ) as client,
            ):
                report = run_sync(
                    client, engine, connection, as_of=day, full_refresh=full_refresh, cancel=cancel
                )
        except RunCancelled as cancelled:  # stopped at a safe point and recorded; the shell's exit code
            click.echo(f"Error: {cancelled}", err=True)
            sys.exit(cancelled.exit_code)
        except Exception as error:  # every failure is reported with its message, and a non-zero exit
            raise click.ClickException(str(error)) from None
        click.echo(
            f"{connection.partition_key}: {report.mode} sync succeeded: "
            + ", ".join(
                f"{k} {report[k]}"
                for k in COUNT_NAMES
                if k not in ("netsuite_requests", "retries", "skipped")
            )
        )
        return
    tags = run_tags(connection.partition_key, full_refresh=full_refresh, as_of=day.isoformat())
    run_id = launch_partition_run(webserver, connection.partition_key, tags)
    click.echo(f"{connection.partition_key}: submitted run {run_id} ({webserver}/runs/{run_id})")
    if no_wait:
        return
    status = wait_for(webserver, run_id)
    if status != "SUCCESS":
        raise click.ClickException(f"run {run_id} {status.lower()}: {failure_reason(run_id)}")
    click.echo(f"run {run_id} succeeded")


RUN_COLUMNS = (
    "connection",
    "run",
    "status",
    "mode",
    "finished",
    "read",
    "created",
    "updated",
    "archived",
    "held_back",
    "invalid",
    "frozen",
    "error",
)
OUTCOME_COLUMNS = ("run", "kind", "netsuite_id", "outcome", "reason")


@click.command()
@click.option("--merchant", default=None)
@click.option("--runs", "limit", default=3, show_default=True, help="Runs per connection.")
@click.option("--outcomes", is_flag=True, help="Also list the last run's per-record outcomes with reasons.")
@json_option
def status(merchant: str | None, limit: int, outcomes: bool, as_json: bool) -> None:
    """The last runs of each connection with their counts; --outcomes adds per-record reasons."""
    engine = store_engine()
    rows: list[dict[str, Any]] = []
    last_runs: list[int] = []
    for connection in list_connections(engine):
        if merchant and connection.merchant_id != merchant:
            continue
        runs = run_history.last_runs(engine, connection.id, limit)
        if runs:
            last_runs.append(runs[0].id)
        rows.extend(
            {
                "connection": connection.partition_key,
                "run": run.id,
                "status": run.status,
                "mode": run.mode,
                "finished": run.finished_at,
                **{k: run.count(k) for k in RUN_COLUMNS[5:-1]},
                "error": run.error,
            }
            for run in runs
        )
    emit(rows, RUN_COLUMNS, as_json=as_json, empty="no runs yet")
    if outcomes and last_runs:
        records = run_history.record_outcomes(engine, last_runs)
        emit(
            [
                {
                    "run": r.run_id,
                    "kind": r.record_kind,
                    "netsuite_id": r.netsuite_id,
                    "outcome": r.outcome,
                    "reason": r.reason,
                }
                for r in records
            ],
            OUTCOME_COLUMNS,
            as_json=as_json,
        )
