"""Fleet scale (issue 15): what a run costs in a deployment, and what keeps it small.

A run launched by a deployment is a new Python process that imports dagster and the code location; each
step in its own process pays that again. These tests pin the choices that keep it to one process per run,
without giving up one run per connection (R13).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import dagster as dg

from resolve_sync.bench.fleet import TreeUsage, _process_kind
from resolve_sync.definitions import defs
from resolve_sync.names import SYNC_JOB


def test_sync_job_runs_its_steps_in_the_run_process() -> None:
    assert defs.resolve_job_def(SYNC_JOB).executor_def is dg.in_process_executor


def test_loading_the_definitions_imports_neither_pandas_nor_the_sandbox_nor_the_bench() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, resolve_sync.definitions; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = json.loads(loaded.stdout)
    unwanted = ("pandas", "numpy", "resolve_sync.sandbox", "resolve_sync.bench", "uvicorn", "starlette")
    assert [m for m in modules if m.startswith(unwanted)] == []


def test_a_backfill_still_launches_one_run_per_connection() -> None:
    """R13 in Dagster's queue needs each run to carry its own `dagster/partition` tag (limit 1 per value):
    a ranged run (a single-run backfill policy) carries range tags instead, so it is not allowed here."""
    for key in defs.resolve_job_def(SYNC_JOB).asset_layer.executable_asset_keys:
        policy = defs.resolve_assets_def(key).backfill_policy
        assert policy is None or policy.max_partitions_per_run == 1, key


def test_the_bench_measures_a_process_tree_cpu_and_memory() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nblock = bytearray(80 * 2**20)\nwhile time.process_time() < 1.2: pass",
        ]
    )
    try:
        with TreeUsage(child.pid) as usage:
            child.wait(timeout=30)
            time.sleep(0.3)
    finally:
        child.kill()
    assert usage.peak_kib > 80 * 1024
    assert usage.cpu_s > 0.8  # all but the last 0.2 s sampling interval
    assert _process_kind(b"python\0-m\0dagster\0api\0grpc\0--instance-ref\0{}") == "code_server"
    assert _process_kind(b"python\0-c\0from multiprocessing.spawn import spawn_main") == "run_workers"
