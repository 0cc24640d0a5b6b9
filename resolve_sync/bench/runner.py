"""Run the suite, print a table a person reads at a glance, and write the same figures as JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from resolve_sync import settings

if TYPE_CHECKING:
    from resolve_sync.bench.scenarios import Result

SIZES = {
    # scenario: (quick, full)
    "extraction_rows": (20_000, 200_000),
    "peer_rows": (20_000, 200_000),
    "per_record_sample": (40, 400),
    "apply_customers": (5_000, 100_000),
    "apply_invoices": (25_000, 500_000),
    "memory_customers": (5_000, 100_000),
    "memory_invoices": ((5_000, 50_000), (100_000, 1_000_000)),
    "connections": (1_000, 1_000),
    "sensor_connections": (10_000, 10_000),
    "fleet": (((4, 8), 100, 1_000), ((50, 200), 300, 3_000)),  # connections per size, customers, invoices
}


def _scenarios(quick: bool) -> list[tuple[str, Callable[[], list[Result]]]]:
    # The scenarios import the sandbox, the sync, Dagster and pandas: only when the suite runs, not for --help.
    from resolve_sync.bench import fleet, scenarios, startup

    size = {name: values[0 if quick else 1] for name, values in SIZES.items()}

    def apply_on(engine_name: str) -> list[Result]:
        if engine_name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                return scenarios.apply_scenarios(
                    size["apply_customers"],
                    size["apply_invoices"],
                    f"sqlite:///{folder}/bench.db",
                    f"sqlite:///{folder}/raw.db",
                    "sqlite",
                )
        url = scenarios.postgres_url()
        if url is None:
            return []
        return scenarios.apply_scenarios(
            size["apply_customers"], size["apply_invoices"], url, url + "_raw", "postgresql"
        )

    return [
        ("CLI start-up", startup.cli_startup),
        (
            "extraction vs the bound",
            lambda: scenarios.extraction_vs_bound(size["extraction_rows"], (5, 15) if quick else (1, 5, 15)),
        ),
        (
            "extraction vs peers",
            lambda: scenarios.extraction_vs_peers(size["peer_rows"], size["per_record_sample"]),
        ),
        ("apply on SQLite", lambda: apply_on("sqlite")),
        ("apply on PostgreSQL", lambda: apply_on("postgresql")),
        ("memory", lambda: [scenarios.memory(size["memory_customers"], size["memory_invoices"])]),
        ("orchestration", lambda: scenarios.orchestration(size["connections"], size["sensor_connections"])),
        ("fleet nightly", lambda: fleet.fleet_nightly(*size["fleet"])),
    ]


def run_suite(quick: bool, report: Callable[[Result], None] = lambda r: None) -> list[Result]:
    """Every scenario, each reported as soon as it is measured; one that breaks is a failed row, not the end."""
    from resolve_sync.bench.scenarios import Result

    results: list[Result] = []
    for name, scenario in _scenarios(quick):
        try:
            measured = scenario()
        except Exception as error:  # noqa: BLE001 - a broken scenario is reported, the rest still run
            measured = [
                Result(
                    name, {}, {"error": f"{type(error).__name__}: {error}"[:300]}, "-", None, "runs", False
                )
            ]
        for result in measured:
            report(result)
            results.append(result)
    return results


def table(results: list[Result]) -> str:
    lines = [f"{'scenario':38} {'parameters':44} {'ratio':>8}  {'target':34} met", "-" * 132]
    for r in results:
        params = ", ".join(f"{k}={v}" for k, v in r.parameters.items())
        met = "yes" if r.met else ("NO" if r.met is not None else "-")
        lines.append(
            f"{r.name:38} {params[:44]:44} {r.ratio if r.ratio is not None else '-':>8}  {r.target[:34]:34} {met}"
        )
        lines.append(f"{'':38} {json.dumps(r.figures)}")
        for note in r.notes:
            lines.append(f"{'':38} note: {note}")
    return "\n".join(lines)


@click.command()
@click.option("--quick", is_flag=True, help="Smaller sizes; under two minutes.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON output (default .resolve_sync/bench/latest.json).",
)
def bench(quick: bool, out: str | None) -> None:
    """Run the performance suite: ratios against the governance bound, peers' approaches and raw inserts."""
    started = time.perf_counter()
    click.echo(table([]))
    results = run_suite(quick, report=lambda r: click.echo(table([r]).split("\n", 2)[2]))
    path = Path(out) if out else settings.state_dir() / "bench" / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(),
                "quick": quick,
                "machine": platform.platform(),
                "elapsed_s": round(time.perf_counter() - started, 1),
                "scenarios": [dataclasses.asdict(r) for r in results],
            },
            indent=2,
        )
    )
    click.echo(f"\nwrote {path} ({time.perf_counter() - started:.0f} s)")
