"""A merchant as the outside tryouts start it: `connections add` and one `sync --local`, as child processes."""

from __future__ import annotations

import pytest

from resolve_sync_tests.cli.process import run
from resolve_sync_tests.sandbox_helpers import cli_connection_args

SYNC = ("sync", "acme", "--local", "--as-of", "2026-11-26")


@pytest.fixture
def acme(sandbox_server) -> str:
    run(*cli_connection_args(sandbox_server))
    run(*SYNC)
    return "acme"
