"""What a person sees when a command fails: one or two lines, the fix runnable as printed, a documented
exit code, and never a traceback (an unexpected error says where its traceback was written)."""

from __future__ import annotations

import shlex
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from resolve_sync_tests.cli.process import Ran, resolve_sync, run
from resolve_sync_tests.sandbox_helpers import cli_connection_args
from resolve_sync_tests.sync_helpers import sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def clean_failure(ran: Ran, code: int) -> list[str]:
    """The failure's lines on stderr, after checking the exit code and that it reads as a message."""
    assert ran.code == code, ran.output
    assert "Traceback" not in ran.output, ran.output
    lines = ran.err.strip().splitlines()
    assert 1 <= len(lines) <= 2, ran.err
    return lines


def fix_command(lines: list[str]) -> list[str]:
    """The `resolve-sync …` command a message tells the person to run, as argv."""
    text = " ".join(lines)
    start = text.index("resolve-sync ")
    command = text[start:].split("`")[0].rstrip(".")
    return shlex.split(command)[1:]


@pytest.fixture
def two_subsidiaries(sandbox_server) -> str:
    run(*cli_connection_args(sandbox_server))
    run(*cli_connection_args(sandbox_server, subsidiary="3"))
    return "acme"


def test_an_unknown_merchant_is_one_line_naming_it_and_the_listing_command() -> None:
    lines = clean_failure(resolve_sync("connections", "show", "nosuch"), 2)
    assert "'nosuch'" in lines[0] and "resolve-sync connections list" in lines[0]


def test_several_connections_and_no_subsidiary_prints_a_command_that_works(two_subsidiaries) -> None:
    lines = clean_failure(resolve_sync("connections", "show", "acme"), 2)
    assert "acme|2" in lines[0] and "acme|3" in lines[0]
    assert "acme|2" in run(*fix_command(lines))


def test_a_subsidiary_id_that_is_not_ascii_digits_is_a_usage_error(two_subsidiaries) -> None:
    for value in ("²", "-1", "3x"):
        lines = clean_failure(resolve_sync("connections", "show", "acme", "--subsidiary", value), 2)
        assert "not a subsidiary id" in lines[0]


def test_sync_without_a_webserver_says_to_start_one_or_run_locally(two_subsidiaries) -> None:
    ran = resolve_sync(
        "sync", "acme", "--subsidiary", "3", "--as-of", "2026-11-26", "--webserver", "http://127.0.0.1:9"
    )
    lines = clean_failure(ran, 5)
    assert "http://127.0.0.1:9" in lines[0]
    assert "make dev" in " ".join(lines)
    local = fix_command(lines)
    assert local[-1] == "--local" and "--subsidiary" in local
    assert "sync succeeded" in run(*local)


def test_an_invalid_filter_fix_hint_runs_as_printed(two_subsidiaries) -> None:
    run("connections", "set-filter", "acme", "custentity_region", "--subsidiary", "3", "--no-verify")
    lines = clean_failure(resolve_sync("sync", "acme", "--subsidiary", "3", "--local"), 2)
    assert "custentity_region" in lines[0] and "not a checkbox" in lines[0]
    clear = shlex.split(lines[0].split("`")[3])[
        1:
    ]  # the second command: `… clear-filter acme --subsidiary 3`
    assert clear[:2] == ["connections", "clear-filter"]
    run(*clear)
    assert "sync succeeded" in run("sync", "acme", "--subsidiary", "3", "--local", "--as-of", "2026-11-26")


def test_set_filter_checks_the_field_live_and_no_verify_saves_it_offline(two_subsidiaries) -> None:
    for field, reason in (
        ("custentity_region", "not a checkbox"),
        ("custentity_missing", "no custom field"),
        ("custentity_vendor_only", "does not apply to customer"),
    ):
        lines = clean_failure(
            resolve_sync("connections", "set-filter", "acme", field, "--subsidiary", "3"), 2
        )
        assert reason in lines[0] and "acme|3" in lines[0], lines
        assert fix_command(lines) == [
            "connections",
            "set-filter",
            "acme",
            field,
            "--subsidiary",
            "3",
            "--no-verify",
        ]
    assert "filter: none" in run("status", "--merchant", "acme", "--subsidiary", "3")
    run("connections", "set-filter", "acme", "custentity_sync_to_resolve", "--subsidiary", "3")
    assert "filter: custentity_sync_to_resolve" in run("status", "--merchant", "acme", "--subsidiary", "3")


def test_an_unmigrated_store_names_the_upgrade_command(tmp_path: Path) -> None:
    env = {"RESOLVE_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    lines = clean_failure(resolve_sync("status", env=env), 3)
    assert "resolve-sync db upgrade" in lines[0]
    run("db", "upgrade", env=env)
    assert "no connections yet" in run("status", env=env)


def test_an_unreachable_store_is_a_store_error() -> None:
    env = {"RESOLVE_SYNC_DATABASE_URL": "postgresql://resolve:secret-pw@127.0.0.1:9/resolve"}
    lines = clean_failure(resolve_sync("connections", "list", env=env), 3)
    assert "cannot be reached" in lines[0] and "127.0.0.1:9" in lines[0]
    assert "secret-pw" not in " ".join(lines)


def test_a_read_only_store_is_a_store_error(tmp_path: Path, sandbox_server) -> None:
    path = tmp_path / "store.db"
    key = Fernet.generate_key().decode()  # a configured database needs its key given (issue 13)
    env = {"RESOLVE_SYNC_DATABASE_URL": f"sqlite:///{path}", "RESOLVE_SYNC_SECRET_KEY": key}
    run("db", "upgrade", env=env)
    run(*cli_connection_args(sandbox_server), env=env)
    read_only = {
        "RESOLVE_SYNC_DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true",
        "RESOLVE_SYNC_SECRET_KEY": key,
    }
    lines = clean_failure(resolve_sync("connections", "disable", "acme", env=read_only), 3)
    assert "read-only" in lines[0]
    with sqlite3.connect(path) as db:  # nothing was changed
        assert db.execute("select enabled from merchant_connections").fetchall() == [(1,)]


def test_an_unexpected_error_says_where_the_traceback_is(tmp_path: Path) -> None:
    import os
    import subprocess

    script = textwrap.dedent(
        """
        import click
        from resolve_sync.cli.boundary import run

        @click.command()
        def boom():
            raise RuntimeError("a bug")

        run(boom, [])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ)
    )
    lines = clean_failure(Ran(done.returncode, done.stdout, done.stderr), 70)
    assert "RuntimeError: a bug" in lines[0]
    path = Path(lines[1].split(" is in ")[1].split(";")[0])
    assert path.is_relative_to(Path(os.environ["RESOLVE_SYNC_STATE_DIR"]))
    assert "Traceback" in path.read_text() and "a bug" in path.read_text()
