"""`--help` and the commands that do not sync load neither Dagster nor pandas (start-up is measured by
`make bench`, `resolve_sync/bench/startup.py`; here only what is imported is checked, not how fast)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("dagster", "pandas")
PROBE = """
import json, sys
sys.argv = ["resolve-sync", *json.loads(sys.argv[1])]
from resolve_sync.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def loaded_by(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_imports_only_click() -> None:
    loaded = loaded_by("--help")
    assert not loaded & {*HEAVY, "httpx", "sqlalchemy", "resolve_sync.bench"}, loaded


def _command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand of `resolve-sync`, as a person would type it before `--help`."""
    import click

    from resolve_sync.cli import cli

    paths: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            paths.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli, ())
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_every_commands_help_loads_neither_the_store_nor_netsuites_client(path: tuple[str, ...]) -> None:
    """`--help` is what a person types most: it must not pay for SQLAlchemy, httpx or the sandbox."""
    loaded = loaded_by(*path, "--help")
    assert not loaded & {*HEAVY, "httpx", "sqlalchemy", "cryptography", "starlette"}, (path, loaded)


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--help"),
        ("sync", "--help"),
        ("connections", "--help"),
        ("subsidiaries", "--help"),
        ("duplicates", "--help"),
        ("demo", "--help"),
        ("status",),
        ("connections", "list"),
        ("drift", "list", "acme"),
        ("db", "current"),
    ],
)
def test_commands_that_do_not_sync_leave_dagster_and_pandas_unloaded(args: tuple[str, ...]) -> None:
    assert not loaded_by(*args) & set(HEAVY)
