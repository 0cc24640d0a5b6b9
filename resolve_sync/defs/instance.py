"""The local Dagster instance (SQLite under the state folder) used by `make dev`, `make demo` and tests.

Its run-concurrency settings are copied from the root `dagster.yaml`, the production instance config, so
both enforce the same limits (SPEC R13) from one source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from resolve_sync import settings

PRODUCTION_INSTANCE_YAML = settings.PROJECT_ROOT / "dagster.yaml"


def production_instance_config() -> dict[str, Any]:
    return yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())


def local_instance_config() -> dict[str, Any]:
    """The production config without its PostgreSQL storage: Dagster then uses SQLite in DAGSTER_HOME."""
    config = production_instance_config()
    return {key: value for key, value in config.items() if key != "storage"}


def prepare_local_dagster_home(path: Path | None = None) -> Path:
    """Create (or refresh) the local DAGSTER_HOME with the shared concurrency settings and return it."""
    home = path or settings.state_dir() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        "# Generated from the root dagster.yaml by resolve_sync.defs.instance; do not edit.\n"
        + yaml.safe_dump(local_instance_config(), sort_keys=False)
    )
    return home
