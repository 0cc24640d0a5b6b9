"""The Dagster instances: the local one (root `dagster.yaml`) and the production one (`deploy/dagster.yaml`).

The root `dagster.yaml` is the local instance and the one source of run-concurrency settings (SPEC R13):
a bare `dagster dev` in the repo root reads it, and `make dev` / `make demo` copy it into their own
DAGSTER_HOME so their runs, schedules and sensor cursors persist between sessions. The production instance
(dagster-postgres storage, Kubernetes run launcher) repeats the same limits in the form Dagster's Helm
chart renders; the deploy tests compare both with `run_concurrency_config()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from resolve_sync import settings

LOCAL_INSTANCE_YAML = settings.PROJECT_ROOT / "dagster.yaml"
PRODUCTION_INSTANCE_YAML = settings.PROJECT_ROOT / "deploy" / "dagster.yaml"


def local_instance_config() -> dict[str, Any]:
    return yaml.safe_load(LOCAL_INSTANCE_YAML.read_text())


def production_instance_config() -> dict[str, Any]:
    return yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())


def run_concurrency_config() -> dict[str, Any]:
    """The local instance's run queue as one QueuedRunCoordinator config: `concurrency.runs` (max concurrent
    runs, the per-partition tag limit) and `run_queue` (how often it dequeues)."""
    local = local_instance_config()
    return {**local["concurrency"]["runs"], **local.get("run_queue", {})}


def local_dagster_home() -> Path:
    return settings.state_dir() / "dagster_home"


def prepare_local_dagster_home(path: Path | None = None) -> Path:
    """Create (or refresh) the local DAGSTER_HOME with a copy of the root `dagster.yaml` and return it."""
    home = path or local_dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        "# Copied from the root dagster.yaml by resolve_sync.defs.instance on every `make dev` and\n"
        "# `make demo`; edit that file, not this one.\n" + LOCAL_INSTANCE_YAML.read_text()
    )
    return home
