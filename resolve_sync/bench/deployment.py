"""A real local Dagster deployment: `dagster dev` (webserver, daemon, code server) on a fresh DAGSTER_HOME.

The fleet benchmark and the deployment and browser tests all need one; this is the one place that knows
how to start it, wait until it answers, and stop it with its child processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import yaml

from resolve_sync import settings
from resolve_sync.defs.instance import local_instance_config, prepare_local_dagster_home

T = TypeVar("T")
START_TIMEOUT_S = 180


@dataclass(frozen=True)
class Deployment:
    url: str  # the webserver (UI and GraphQL)
    pid: int  # `dagster dev`, leader of its process group
    home: Path  # DAGSTER_HOME
    log: Path  # what `dagster dev` and its children printed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    every: float = 0.5,
    process: subprocess.Popen | None = None,
) -> T:
    """Poll another process's state (there is no event to await across processes); fail early, with the
    log, if `process` died meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"`dagster dev` exited ({process.returncode}) while waiting for {what}")
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def webserver_up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/server_info", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _home(folder: Path, postgres_url: str | None) -> Path:
    if postgres_url is None:  # the local instance: SQLite files under DAGSTER_HOME, as `make dev`
        return prepare_local_dagster_home(folder / "dagster_home").resolve()
    home = (folder / "dagster_home").resolve()
    home.mkdir(parents=True)
    config = local_instance_config() | {"storage": {"postgres": {"postgres_url": postgres_url}}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@contextmanager
def dagster_dev(
    folder: Path,
    env: dict[str, str] | None = None,
    *,
    postgres_url: str | None = None,
    keep_log: str | None = None,
) -> Iterator[Deployment]:
    """A deployment with the root dagster.yaml's run queue, on SQLite or (given its URL) PostgreSQL;
    `keep_log` is a file to copy its output to when it stops (the folder may be temporary)."""
    home = _home(folder, postgres_url)
    port = free_port()
    log_path = folder / "dagster-dev.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "dev",
            "-w",
            str(settings.PROJECT_ROOT / "workspace.yaml"),
            "-p",
            str(port),
        ],
        env={**os.environ, **(env or {}), "DAGSTER_HOME": str(home)},
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for(lambda: webserver_up(url), START_TIMEOUT_S, "the Dagster webserver", process=process)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}\n{log_path.read_text()[-3000:]}") from None
        yield Deployment(url, process.pid, home, log_path)
    finally:
        _stop(process)
        log.close()
        if keep_log:
            Path(keep_log).write_text(log_path.read_text())


def _stop(process: subprocess.Popen) -> None:
    """SIGINT first, as Ctrl-C (dagster dev then stops its children), then SIGKILL what is left."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with suppress(ProcessLookupError):  # a code server child that outlived `dagster dev`
        os.killpg(process.pid, signal.SIGKILL)
