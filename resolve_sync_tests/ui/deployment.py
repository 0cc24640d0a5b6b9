"""A real local deployment for the browser test: `dagster dev` (webserver + daemon) on a temporary
DAGSTER_HOME with a SQLite instance (`resolve_sync.bench.deployment`), the SQLite store, and the CLI run as
separate processes; what the test reads of it over GraphQL and the instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from resolve_sync.bench.deployment import dagster_dev, wait_for

__all__ = ["dagster_dev", "graphql", "partition_keys", "runs", "wait_for"]


def graphql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=30)
    response.raise_for_status()
    return response.json()["data"]


RUNS = """query Runs { runsOrError { ... on Runs { results { runId status tags { key value } } } } }"""


def runs(url: str) -> list[dict[str, Any]]:
    """Every run, newest first, with its tags as a dict."""
    results = graphql(url, RUNS)["runsOrError"]["results"]
    return [{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in results]


def partition_keys(home: Path) -> set[str]:
    """The connections partitions the instance knows (the connections sensor adds them)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        return set(instance.get_dynamic_partitions("connections"))
