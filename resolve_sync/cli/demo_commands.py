"""`resolve-sync demo` (what `make demo` runs) and `resolve-sync dev` (what `make dev` runs).

The demo generates a sandbox NetSuite account, serves it on a fixed local port, adds two connections
(one with a filter field, one without) and materialises every partition through Dagster on the local
instance, so `make dev` afterwards shows the runs, checks and plots in the UI.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import click

from resolve_sync import settings
from resolve_sync.defs.instance import prepare_local_dagster_home
from resolve_sync.kinds import AuthKind
from resolve_sync.names import DUPLICATES_CHECK, SYNC_JOB

DEMO_PORT = int(os.environ.get("RESOLVE_SYNC_DEMO_PORT", "8765"))
DEMO_MERCHANT = "demo"
DEMO_FILTER = "custentity_sync_to_resolve"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the summary reports failures


def demo_fixture_path() -> Path:
    return settings.state_dir() / "demo-account.json"


def _ensure_fixture(customers: int, invoices: int) -> Path:
    from resolve_sync.sandbox.generate import generate_fixture

    path = demo_fixture_path()
    if not path.exists():
        click.echo(
            f"      generating a demo NetSuite account ({customers} customers, {invoices} invoices) ..."
        )
        generate_fixture(path, customers=customers, invoices=invoices, seed=7, as_of=dt.date.today())
    return path


def _sandbox_running(base_url: str, admin_token: str) -> bool:
    import httpx

    try:
        return (
            httpx.get(
                f"{base_url}/_sandbox/stats", headers={"X-Sandbox-Admin-Token": admin_token}, timeout=2
            ).status_code
            == 200
        )
    except httpx.HTTPError:
        return False


def step(number: int, total: int, text: str) -> None:
    click.echo(f"[{number}/{total}] {text}")


@click.command()
@click.option("--customers", default=3000, show_default=True)
@click.option("--invoices", default=30000, show_default=True)
@click.option(
    "--ui",
    "ui_url",
    default="http://127.0.0.1:3000",
    show_default=True,
    help="Where `make dev` serves the UI.",
)
def demo(customers: int, invoices: int, ui_url: str) -> None:
    """Run a whole sync end to end on the embedded defaults (sandbox NetSuite, SQLite store, local Dagster)."""
    step(1, 5, "loading Dagster and the sync (a few seconds) ...")
    import dagster as dg

    from resolve_sync.definitions import defs
    from resolve_sync.defs.partitions import run_tags
    from resolve_sync.sandbox.server import SandboxServer
    from resolve_sync.store.connections import add_connection, list_connections, update_connection
    from resolve_sync.store.database import store_engine
    from resolve_sync.store.duplicate_resolutions import record_resolution
    from resolve_sync.store.secrets import SecretBox
    from resolve_sync.sync.duplicates import duplicate_pairs

    step(2, 5, "the sandbox NetSuite account")
    path = _ensure_fixture(customers, invoices)
    fixture = json.loads(path.read_text()[:4000].split(', "subsidiaries"')[0] + "}")
    base_url = f"http://127.0.0.1:{DEMO_PORT}"
    server = None
    if not _sandbox_running(base_url, fixture["admin_token"]):
        server = SandboxServer(path, port=DEMO_PORT).start()
    click.echo(f"      account {fixture['account_id']} served at {base_url}")
    step(3, 5, f"connections {DEMO_MERCHANT}|2 (no filter) and {DEMO_MERCHANT}|3 (filter {DEMO_FILTER})")
    engine = store_engine()
    existing = {c.partition_key for c in list_connections(engine)}
    for subsidiary, filter_field in ((2, None), (3, DEMO_FILTER)):
        key = f"{DEMO_MERCHANT}|{subsidiary}"
        if key in existing:
            update_connection(engine, key, base_url=base_url, filter_field_id=filter_field)
            continue
        add_connection(
            engine,
            SecretBox.from_environment(),
            merchant_id=DEMO_MERCHANT,
            netsuite_account_id=fixture["account_id"],
            auth_kind=AuthKind.TBA,
            credentials=fixture["credentials"]["tba"][0],
            subsidiary_id=subsidiary,
            base_url=base_url,
            filter_field_id=filter_field,
            account_timezone=fixture["timezone"],
        )
    os.environ["DAGSTER_HOME"] = str(prepare_local_dagster_home())
    logging.getLogger("dagster").setLevel(logging.WARNING)  # the summary below is what a person reads
    keys = [f"{DEMO_MERCHANT}|2", f"{DEMO_MERCHANT}|3"]
    summaries: list[str] = []
    try:
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions(
                "connections", [k for k in keys if not instance.has_dynamic_partition("connections", k)]
            )
            job = defs.resolve_job_def(SYNC_JOB)

            def run(key: str) -> dg.ExecuteInProcessResult:
                click.echo(f"      {key}: syncing through Dagster (sync_job) ...")
                return job.execute_in_process(
                    partition_key=key,
                    instance=instance,
                    raise_on_error=False,
                    tags=run_tags(key, as_of=dt.date.today().isoformat()),
                    run_config=QUIET,
                )

            for number, key in enumerate(keys, start=4):
                step(number, 5, f"materialise {key}")
                result = run(key)
                checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
                duplicates = checks.get(DUPLICATES_CHECK)
                if duplicates is not None and not duplicates.passed:
                    connection = next(c for c in list_connections(engine) if c.partition_key == key)
                    pairs = duplicate_pairs(engine, connection)
                    click.echo(
                        f"      {key}: run {result.run_id} failed on the duplicates check ({len(pairs)} pairs), "
                        "as it should on near-duplicate demo data. Playing the operator: "
                        f"`resolve-sync duplicates distinct {DEMO_MERCHANT} LEFT RIGHT` for each pair, "
                        "then syncing again."
                    )
                    for pair in pairs:
                        record_resolution(engine, DEMO_MERCHANT, *pair.keys, "distinct", resolved_by="demo")
                    first = result.run_id
                    result = run(key)
                    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
                    summaries.append(f"{key}: first run {first} failed on duplicates ({ui_url}/runs/{first})")
                summaries.extend(summary_lines(engine, key, result, checks, ui_url))
    finally:
        if server is not None:
            server.stop()
    click.echo("\nSummary")
    for line in summaries:
        click.echo(line)
    click.echo(
        f"\nDone. `make dev` serves the sandbox and the Dagster UI ({ui_url}) with these runs; "
        f"`resolve-sync status --merchant {DEMO_MERCHANT}` shows them here."
    )


SKIPPED = (
    "skipped: their customer's filter box is unchecked, so they stay out of Resolve "
    "(those synced before are kept as they are; nothing is deleted)"
)


def summary_lines(engine, key: str, result, checks, ui_url: str) -> list[str]:  # type: ignore[no-untyped-def]
    """One partition's run as a person reads it: status and link, customers and invoices apart, checks with
    their severity (a warning says WARN, not FAILED), and what 'skipped' means."""
    import dagster as dg

    from resolve_sync.cli.sync_commands import counts_line
    from resolve_sync.store.run_history import run_of_dagster_run

    sync_run = run_of_dagster_run(engine, result.run_id)
    counts = sync_run.counts if sync_run else {}
    lines = [
        f"{key}: run {result.run_id} {'succeeded' if result.success else 'FAILED'} ({ui_url}/runs/{result.run_id})",
        f"  {counts_line(counts)}",
    ]
    if sync_run and sync_run.error:
        lines.append(f"  error: {sync_run.error}")
    skipped = int(counts.get("skipped", 0) or 0)
    if skipped:
        lines.append(f"  {skipped} {SKIPPED}")
    held_back = int(counts.get("held_back", 0) or 0)
    if held_back:
        lines.append(
            f"  {held_back} held back (their top-level customer is not synced): "
            f"`resolve-sync status --merchant {DEMO_MERCHANT} --subsidiary {key.split('|')[1]} --outcome held_back`"
        )

    def verdict(evaluation: dg.AssetCheckEvaluation) -> str:
        if evaluation.passed:
            return "passed"
        return "WARN" if evaluation.severity == dg.AssetCheckSeverity.WARN else "FAILED"

    lines.append("  checks: " + ", ".join(f"{name} {verdict(e)}" for name, e in sorted(checks.items())))
    return lines


def dagster_dev_command(port: int) -> list[str]:
    """`dg dev` on the project's workspace.yaml: the current entry point (`dagster dev` is superseded)."""
    dg = Path(sys.executable).parent / "dg"
    if not dg.exists():
        raise click.ClickException(
            "`dg` is not installed in this environment: run `make install` (it installs dagster-dg-cli)."
        )
    return [str(dg), "dev", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), "-p", str(port)]


@click.command()
@click.option("--port", default=3000, show_default=True)
def dev(port: int) -> None:
    """Serve the demo sandbox (if `make demo` created one) and the Dagster UI on the local instance."""
    home = prepare_local_dagster_home().resolve()  # absolute: Dagster runs from it
    # Dagster warns when the current folder holds a dagster.yaml other than DAGSTER_HOME's (the repo
    # root does), so Dagster runs from its home. The state folder is pinned first: it defaults to the
    # current folder, and the code server must find the same store as the caller.
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        settings.STATE_DIR_ENV: str(settings.state_dir().resolve()),
    }
    sandbox = None
    path = demo_fixture_path()
    if path.exists():
        sandbox = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "resolve_sync.cli",
                "sandbox",
                "serve",
                str(path),
                "--port",
                str(DEMO_PORT),
            ],
            env=env,
        )
        click.echo(f"sandbox NetSuite account at http://127.0.0.1:{DEMO_PORT}")
    try:
        subprocess.run(dagster_dev_command(port), env=env, cwd=home, check=False)
    finally:
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(timeout=30)
