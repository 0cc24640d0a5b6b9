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
    """A ranged run of the asset job is all or nothing (one output per step for the whole range), so a
    backfill of `sync_job` stays one run per partition; several connections share a run only in the fleet
    job (`resolve_sync/defs/batch.py`, tested in test_batch.py), which records each one on its partition."""
    for key in defs.resolve_job_def(SYNC_JOB).asset_layer.executable_asset_keys:
        policy = defs.resolve_assets_def(key).backfill_policy
        assert policy is None or policy.max_partitions_per_run == 1, key


def test_loading_the_definitions_warns_nothing() -> None:
    subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            "import resolve_sync.definitions as d; d.defs.get_repository_def()",
        ],
        check=True,
        capture_output=True,
    )


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
