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
from resolve_sync_tests.sandbox_helpers import admin
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
    assert command == "connections remove acme --yes"
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
