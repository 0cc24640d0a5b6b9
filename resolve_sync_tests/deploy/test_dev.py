"""`make dev` (`resolve-sync dev`) and a bare `dagster dev` in the repo root start cleanly.

Each runs as a subprocess until the webserver answers; then it is stopped like Ctrl-C (SIGINT to its
process group) and its whole output is checked for Dagster's supersession and instance warnings.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from resolve_sync import settings

pytestmark = pytest.mark.slow

SUPERSEDED = "SupersessionWarning"
INSTANCE_IGNORED = "will not be used to configure Dagster"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_until_up(command: list[str], *, cwd: Path, env: dict[str, str], port: int) -> str:
    """Start `command`, wait for the webserver on `port`, stop it as Ctrl-C does, return its output."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    up = False
    try:
        while time.monotonic() < deadline and process.poll() is None and not up:
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.5)  # polling a separate process: there is no event to await
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert up, f"the webserver never answered on port {port}:\n{output}"
    assert "Launching Dagster services" in output, output  # Dagster's own log was captured
    return output


def test_make_dev_prints_no_supersession_or_instance_warning(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    output = _serve_until_up(
        [str(Path(sys.executable).parent / "resolve-sync"), "dev", "--port", str(port)],
        cwd=settings.PROJECT_ROOT,  # where `make dev` runs it, next to the root dagster.yaml
        env=env,
        port=port,
    )
    assert SUPERSEDED not in output, output
    assert INSTANCE_IGNORED not in output, output
    # It ran on the local instance in the (test's) state folder, a copy of the root dagster.yaml.
    home = Path(env[settings.STATE_DIR_ENV]) / "dagster_home"
    assert (home / "dagster.yaml").read_text().endswith((settings.PROJECT_ROOT / "dagster.yaml").read_text())
    assert (home / "history" / "runs.db").exists()


def test_bare_dagster_dev_in_the_repo_root_needs_no_variables() -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    output = _serve_until_up(
        [str(Path(sys.executable).parent / "dagster"), "dev", "-p", str(port)],
        cwd=settings.PROJECT_ROOT,
        env=env,
        port=port,
    )
    assert INSTANCE_IGNORED not in output, output  # it read the root dagster.yaml, the local instance
