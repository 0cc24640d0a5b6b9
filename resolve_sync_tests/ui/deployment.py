"""A real local deployment for the browser test: `dagster dev` (webserver + daemon) on a temporary
DAGSTER_HOME with a SQLite instance, the SQLite store, and the CLI run as separate processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from resolve_sync import settings
from resolve_sync.defs.instance import prepare_local_dagster_home

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], T], timeout: float, what: str, every: float = 0.5) -> T:
    """Poll another process's state (there is no event to await across processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/server_info", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def dagster_dev(folder: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """Webserver and daemon on a fresh DAGSTER_HOME; yields (UI URL, DAGSTER_HOME)."""
    home = prepare_local_dagster_home(folder / "dagster_home").resolve()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "dagster-dev.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "dev",
            "-w",
            str(settings.PROJECT_ROOT / "workspace.yaml"),
            "-p",
            str(port),
        ],
        env={**env, "DAGSTER_HOME": str(home)},
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _up(url) or process.poll() is not None, 180, "the Dagster webserver")
        assert process.poll() is None, (folder / "dagster-dev.log").read_text()[-3000:]
        yield url, home
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


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
