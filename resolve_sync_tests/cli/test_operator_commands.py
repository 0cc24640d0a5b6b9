"""Operator commands as a person meets them (issue 14 and its outside tryout): each run as a child process,
reading its real stdout, stderr and exit code, against the sandbox over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from resolve_sync_tests.cli.conftest import SYNC
from resolve_sync_tests.cli.process import resolve_sync, run
from resolve_sync_tests.cli_process import local_store
from resolve_sync_tests.sandbox_helpers import admin, cli_connection_args
from resolve_sync_tests.sync_helpers import invoice_record, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def _shown(merchant: str = "acme") -> dict:
    return json.loads(run("connections", "show", merchant, "--json"))[0]


def test_set_subsidiary_is_checked_in_netsuite_before_it_is_saved(acme) -> None:
    refused = resolve_sync("connections", "set-subsidiary", "acme", "9")  # the elimination subsidiary
    assert refused.code == 2, refused.output
    assert "subsidiary 9 is not an active, non-elimination subsidiary" in refused.err
    assert "3 (Canada)" in refused.err and "Traceback" not in refused.output
    assert _shown()["subsidiary_id"] == 2  # nothing saved

    assert "subsidiary set to 3" in run("connections", "set-subsidiary", "acme", "3")
    assert _shown()["subsidiary_id"] == 3
    run("connections", "set-subsidiary", "acme", "42", "--no-verify")  # offline: saved as asked
    assert _shown()["subsidiary_id"] == 42


def test_removing_from_a_script_asks_for_yes_and_says_how(acme) -> None:
    refused = resolve_sync("connections", "remove", "acme")  # stdin is not a terminal
    assert refused.code == 2, refused.output
    command = refused.err.split("`resolve-sync ", 1)[1].split("`", 1)[0]
    assert command == "connections remove acme --subsidiary 2 --yes"
    assert json.loads(run("connections", "list", "--json"))  # still there
    run(*command.split())  # as printed
    assert json.loads(run("connections", "list", "--json")) == []


def test_output_cut_short_by_its_reader_is_not_an_error(acme) -> None:
    """`resolve-sync status --outcomes | head -1`: the reader is gone before the first line is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "resolve_sync.cli",
            "status",
            "--outcomes",
            "--outcome",
            "all",
            "--limit",
            "0",
        ],
        stdout=write_end,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=60,
    )
    os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("args", [("--limit", "-1"), ("--runs", "0"), ("--run", "-3")])
def test_status_refuses_counts_below_their_range(args: tuple[str, str]) -> None:
    refused = resolve_sync("status", "--outcomes", *args)
    assert refused.code == 2 and args[0] in refused.err, refused.output


def test_explain_with_a_bare_id_shows_the_form_to_use(acme) -> None:
    refused = resolve_sync("explain", "acme", "100")
    assert refused.code == 2, refused.output
    assert "netsuite:100" in refused.err and "Traceback" not in refused.output
    assert "in Resolve as" in run("explain", "acme", "netsuite:100")


def test_duplicates_list_json_is_one_document_with_the_resolved_pairs(acme, sandbox_server) -> None:
    twin = {"id": 61, "entityid": "C61", "companyname": "Initech", "email": "x@initech.test", "subsidiary": 2}
    admin(sandbox_server.base_url).post("/_sandbox/records/customers", json={"records": [twin]})
    assert resolve_sync(*SYNC).code == 4
    blocked = json.loads(run("duplicates", "list", "acme", "--json"))
    assert [(p["left"], p["right"]) for p in blocked["unresolved"]] == [("netsuite:30", "netsuite:61")]
    assert blocked["resolved"] == []
    run("duplicates", "distinct", "acme", "netsuite:30", "netsuite:61")
    settled = json.loads(run("duplicates", "list", "acme", "--json"))
    assert settled["unresolved"] == []
    assert [(p["left"], p["right"], p["resolution"]) for p in settled["resolved"]] == [
        ("netsuite:30", "netsuite:61", "distinct")
    ]


def test_drift_list_says_what_netsuite_changed_in_words(acme, sandbox_server) -> None:
    with local_store().begin() as db:
        db.execute(text("UPDATE resolve_invoices SET advanced = :t WHERE netsuite_id = '100'"), {"t": True})
    changed = {**invoice_record(100, 10, "2026-02-01", total=1800), "lastmodifieddate": "2026-11-25T00:00:00"}
    admin(sandbox_server.base_url).post("/_sandbox/records/invoices", json={"records": [changed]})
    run(*SYNC)
    listed = run("drift", "list", "acme")
    assert "amount_due 1500 → 1800" in listed and "{" not in listed
    (entry,) = json.loads(run("drift", "list", "acme", "--json"))
    assert entry["changes"]["amount_due"] == {"synced": "1500", "netsuite": "1800"}


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/x?password=hunter2",  # a password as a query parameter
        "host=127.0.0.1 port=1 password=hunter2",  # a libpq keyword string
        "postgresql://postgres:hun@hunter2@127.0.0.1:1/x",  # an unescaped '@' in the password
    ],
)
def test_a_store_password_is_never_printed_in_any_url_form(url: str) -> None:
    ran = resolve_sync("status", env={"RESOLVE_SYNC_DATABASE_URL": url})
    assert ran.code in (2, 3) and "hunter2" not in ran.output and "Traceback" not in ran.output, ran.output


def test_a_file_that_is_no_database_gets_a_fix_that_fits(tmp_path) -> None:
    store = tmp_path / "store.db"
    store.write_text("these are not the bytes of a database\n" * 10)
    env = {"RESOLVE_SYNC_DATABASE_URL": f"sqlite:///{store}"}
    for command in (("status",), ("db", "current")):
        ran = resolve_sync(*command, env=env)
        assert ran.code == 3 and "not a SQLite database" in ran.err, ran.output
        assert "start the database server" not in ran.err


def test_stdin_closed_or_a_full_disk_are_said_in_one_line(acme) -> None:
    closed = subprocess.run(  # `resolve-sync connections remove acme <&-`
        [sys.executable, "-m", "resolve_sync.cli", "connections", "remove", "acme"],
        stdin=None,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.close(0),
        timeout=60,
    )
    assert closed.returncode == 2 and "--yes" in closed.stderr, closed.stderr
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "resolve_sync.cli", "status"],
            stdout=full,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1 and "could not be written" in done.stderr, done.stderr


def test_a_state_folder_that_is_a_file_is_a_configuration_error(tmp_path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("")
    ran = resolve_sync("status", env={"RESOLVE_SYNC_STATE_DIR": str(blocker)})
    assert ran.code == 2 and "RESOLVE_SYNC_STATE_DIR" in ran.err and "Traceback" not in ran.output, ran.output


@pytest.mark.parametrize(
    "args",
    [
        ("--runs", "99999999999999999999999"),
        ("--limit", "999999999999999999999999999"),
        ("--outcome", ""),
        ("--outcome", "skipped"),
        ("--merchant", "DEMO\x1b[31m"),
    ],
)
def test_status_refuses_what_it_cannot_show_as_usage(acme, args: tuple[str, str]) -> None:
    refused = resolve_sync("status", "--outcomes", *args)
    assert refused.code == 2 and "Traceback" not in refused.output, refused.output


def test_status_outcomes_show_what_is_held_back_now_after_an_incremental_run(acme, sandbox_server) -> None:
    """The held-back invoices of the first run are still held back after a nightly that changed nothing:
    `status --outcome held_back` (what `make demo` tells the operator to run) must still list them."""
    control = admin(sandbox_server.base_url)
    invalid = {
        "id": 70,
        "entityid": "C70",
        "companyname": "\u202eEvil",
        "email": "e@evil.test",
        "subsidiary": 2,
    }
    control.post(
        "/_sandbox/records/customers", json={"records": [invalid]}
    )  # a name with a direction override
    control.post("/_sandbox/records/invoices", json={"records": [invoice_record(300, 70, "2026-09-01")]})
    run(*SYNC)  # the customer is invalid, so its invoice is held back
    first = json.loads(run("status", "--outcome", "held_back", "--json"))["outcomes"]
    run(*SYNC)  # an incremental run: nothing changed in NetSuite
    now = json.loads(run("status", "--outcome", "held_back", "--json"))["outcomes"]
    assert first["matching"] > 0 and now["matching"] == first["matching"]
    assert {r["netsuite_id"] for r in now["records"]} == {r["netsuite_id"] for r in first["records"]}
    last_run = json.loads(run("status", "--json"))["connections"][0]["runs"][0]
    assert last_run["counts"]["invoices_held_back"] == now["totals"]["invoices"]["held_back"] == 1
    mismatch = resolve_sync("status", "--outcomes", "--run", "1", "--merchant", "nosuch")
    assert mismatch.code == 2, mismatch.output


def test_drift_list_of_an_unknown_merchant_is_not_an_all_clear(acme) -> None:
    ran = resolve_sync("drift", "list", "acmee")
    assert ran.code == 2 and "no connection of merchant 'acmee'" in ran.err, ran.output


def test_duplicates_list_without_a_subsidiary_covers_every_connection_of_the_merchant(
    acme, sandbox_server
) -> None:
    """The hint a blocked run prints (`resolve-sync duplicates list MERCHANT`) must run as printed even when
    the merchant has several connections."""
    run(*cli_connection_args(sandbox_server, subsidiary="3"))
    twin = {"id": 61, "entityid": "C61", "companyname": "Initech", "email": "x@initech.test", "subsidiary": 2}
    admin(sandbox_server.base_url).post("/_sandbox/records/customers", json={"records": [twin]})
    assert resolve_sync(*SYNC, "--subsidiary", "2").code == 4
    listed = json.loads(run("duplicates", "list", "acme", "--json"))
    assert [(p["connection"], p["left"], p["right"]) for p in listed["unresolved"]] == [
        ("acme|2", "netsuite:30", "netsuite:61")
    ]
