"""The code location image's Python environment installs and serves the definitions (no docker needed).

The test copies what deploy/Dockerfile copies into an empty folder, creates a fresh virtualenv and runs the
Dockerfile's own `RUN pip install …` arguments there, then loads the code location with the installed
`dagster` as the image's gRPC server would. Skipped when the package index cannot be reached.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resolve_sync import settings

pytestmark = pytest.mark.slow

DOCKERFILE = settings.PROJECT_ROOT / "deploy" / "Dockerfile"


def dockerfile_steps() -> tuple[str, list[str], list[str]]:
    """(base image, COPY sources, pip install arguments) of the Dockerfile."""
    base, sources, pip_args = "", [], []
    for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "FROM":
            base = words[1]
        elif words[0] == "COPY":
            sources += words[1:-1]
        elif words[:3] == ["RUN", "pip", "install"]:
            assert not pip_args, (
                "one `RUN pip install` line, so this test installs exactly what the image does"
            )
            pip_args = words[3:]
    return base, sources, pip_args


def _index_reachable(python: Path, scratch: Path) -> bool:
    probe = subprocess.run(
        [str(python), "-m", "pip", "download", "--no-deps", "--dest", str(scratch), "dagster-k8s==0.29.27"],
        capture_output=True,
        timeout=120,
    )
    return probe.returncode == 0


def test_dockerfile_installs_the_pinned_package_with_the_k8s_extra() -> None:
    base, sources, pip_args = dockerfile_steps()
    assert base == f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"  # the Python tested here
    assert sources == ["pyproject.toml", "README.md", "resolve_sync"]
    assert pip_args == [".[k8s]"]


def test_image_environment_installs_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    _, sources, pip_args = dockerfile_steps()
    app = tmp_path / "app"
    app.mkdir()
    for source in sources:
        origin = settings.PROJECT_ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, app / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, app / source)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    if not _index_reachable(python, tmp_path / "probe"):
        pytest.skip("the package index is not reachable (offline)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "RESOLVE_SYNC_"))}
    env |= {"PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # as the Dockerfile sets
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *pip_args],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    versions = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True
    ).stdout.lower()
    for pin in ("dagster==1.13.27", "dagster-postgres==0.29.27", "dagster-k8s==0.29.27"):
        assert pin in versions.splitlines(), versions
    # Not editable: the package is in site-packages, away from the copied sources.
    served = subprocess.run(
        [str(venv / "bin" / "dagster"), "definitions", "validate", "-m", "resolve_sync.definitions"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert served.returncode == 0, served.stdout + served.stderr
    shutil.rmtree(app)  # the installed package must not need its sources
    imported = subprocess.run(
        [str(python), "-c", "import dagster_k8s, dagster_postgres, resolve_sync.definitions"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stderr
