"""The code location loads, and the local instance enforces the same run concurrency as production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from resolve_sync import settings
from resolve_sync.defs.instance import prepare_local_dagster_home, production_instance_config

ROOT = settings.PROJECT_ROOT


def test_definitions_validate_through_the_dagster_cli(tmp_path) -> None:
    # As `make dev` runs it: DAGSTER_HOME is the local instance (the root dagster.yaml is production's).
    env = {**os.environ, "DAGSTER_HOME": str(prepare_local_dagster_home(tmp_path / "home"))}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_are_loadable() -> None:
    from resolve_sync.definitions import defs

    dg.Definitions.validate_loadable(defs)


def test_local_instance_uses_the_production_concurrency_settings(tmp_path) -> None:
    home = prepare_local_dagster_home(tmp_path / "home")
    local = yaml.safe_load((home / "dagster.yaml").read_text())
    production = production_instance_config()
    assert local["concurrency"] == production["concurrency"]
    assert "storage" not in local  # SQLite under DAGSTER_HOME locally
    limits = production["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_concurrency_config().run_queue_config.tag_concurrency_limits == limits


def test_production_instance_uses_the_store_driver() -> None:
    assert (
        production_instance_config()["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    )
