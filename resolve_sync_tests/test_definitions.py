"""The code location loads, from a bare Dagster command in the repo root too, on the local instance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from resolve_sync import settings
from resolve_sync.defs.instance import prepare_local_dagster_home, run_concurrency_config

ROOT = settings.PROJECT_ROOT


def _without_dagster_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}


def test_bare_definitions_validate_in_the_repo_root_needs_no_variables() -> None:
    # The first thing a Dagster user types: no DAGSTER_HOME, no DAGSTER_PG_*, no -w (workspace.yaml is found).
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=_without_dagster_variables(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_are_loadable() -> None:
    from resolve_sync.definitions import defs

    dg.Definitions.validate_loadable(defs)


def test_local_dagster_home_is_the_root_instance(tmp_path) -> None:
    home = prepare_local_dagster_home(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == run_concurrency_config()["max_concurrent_runs"]
        assert queue.tag_concurrency_limits == run_concurrency_config()["tag_concurrency_limits"]
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"  # under DAGSTER_HOME
    limits = run_concurrency_config()["tag_concurrency_limits"]
    assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
