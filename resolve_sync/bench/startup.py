"""CLI start-up: how long `resolve-sync --help` and a store read take from a cold process (issue 14: at
most 0.3 s for every command that does not sync), and what `import resolve_sync.cli` costs by itself."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from resolve_sync.bench.scenarios import Result

TARGET_SECONDS = 0.3
COMMANDS = {"help": ["--help"], "status": ["status"], "connections_list": ["connections", "list"]}


def _wall(args: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "resolve_sync.cli", *args], env=env, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_time_seconds() -> float:
    """`python -X importtime -c "import resolve_sync.cli"`: the package's cumulative import time."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import resolve_sync.cli"], capture_output=True, text=True
    )
    match = re.search(r"\|\s*(\d+) \| resolve_sync\.cli$", done.stderr, re.MULTILINE)
    return int(match.group(1)) / 1e6 if match else float("nan")


def cli_startup(repeat: int = 5) -> list[Result]:
    with tempfile.TemporaryDirectory() as state:
        env = {**os.environ, "RESOLVE_SYNC_STATE_DIR": state}
        env.pop("RESOLVE_SYNC_DATABASE_URL", None)
        subprocess.run([sys.executable, "-m", "resolve_sync.cli", "status"], env=env, capture_output=True)
        figures = {f"{name}_s": round(_wall(args, env, repeat), 3) for name, args in COMMANDS.items()}
    figures["import_resolve_sync_cli_s"] = round(import_time_seconds(), 3)
    return [
        Result(
            "CLI start-up",
            {"repeat": repeat},
            figures,
            "median wall time of a new process",
            figures["help_s"],
            f"--help <= {TARGET_SECONDS} s",
            figures["help_s"] <= TARGET_SECONDS,
            notes=["status and connections list open the store (SQLAlchemy, migration check)"],
        )
    ]
