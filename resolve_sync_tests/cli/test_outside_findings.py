"""What a first-time user and an attacker found by trying the tool from the outside, each kept as a test
run the way they ran it: the CLI as a child process, the sandbox over HTTP."""

from __future__ import annotations

import shlex
import socket

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from resolve_sync_tests.cli.conftest import SYNC
from resolve_sync_tests.cli.process import resolve_sync, run
from resolve_sync_tests.cli_process import local_store
from resolve_sync_tests.sandbox_helpers import admin, cli_connection_args
from resolve_sync_tests.sync_helpers import invoice_record, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def test_a_record_stamped_in_the_future_does_not_blind_later_incremental_runs(acme, sandbox_server) -> None:
    """A NetSuite record stamped 2030 must not move the cursor to 2030: a change made afterwards (stamped
    2027 here, still after the real run) must be read by the next incremental run."""
    control = admin(sandbox_server.base_url)
    future = {**invoice_record(200, 10, "2026-09-01"), "lastmodifieddate": "2030-01-01T00:00:00"}
    control.post("/_sandbox/records/invoices", json={"records": [future]})
    run(*SYNC)
    later = {**invoice_record(100, 10, "2026-02-01", total=999), "lastmodifieddate": "2027-06-01T00:00:00"}
    control.post("/_sandbox/records/invoices", json={"records": [later]})
    run(*SYNC)
    with local_store().connect() as db:
        amount = db.scalar(text("SELECT amount_due FROM resolve_invoices WHERE netsuite_id = '100'"))
    assert float(amount) == 999


def test_a_blocked_sync_prints_resolution_commands_that_run_as_printed(acme, sandbox_server) -> None:
    control = admin(sandbox_server.base_url)
    twin = {"id": 61, "entityid": "C61", "companyname": "Initech", "email": "x@initech.test", "subsidiary": 2}
    control.post("/_sandbox/records/customers", json={"records": [twin]})
    blocked = resolve_sync(*SYNC)
    assert blocked.code == 4, blocked.output
    command = blocked.err.split("`resolve-sync ", 1)[1].split("`", 1)[0]
    run(*shlex.split(command))  # exactly as printed
    run(*SYNC)


def test_duplicates_list_names_each_side_with_its_own_name(acme, sandbox_server) -> None:
    control = admin(sandbox_server.base_url)
    twin = {
        "id": 61,
        "entityid": "C61",
        "companyname": "Initech Inc",
        "email": "x@initech.test",
        "subsidiary": 2,
    }
    control.post("/_sandbox/records/customers", json={"records": [twin]})
    resolve_sync(*SYNC)
    listed = run("duplicates", "list", "acme", "--json")
    assert '"left": "netsuite:30"' in listed and '"left_name": "Initech"' in listed
    assert '"right": "netsuite:61"' in listed and '"right_name": "Initech Inc"' in listed


@pytest.mark.parametrize(
    "url", ["mysql://root:hunter2@db/x", "not a url", "postgresql://u:hunter2@h:5432:x/x"]
)
def test_an_unusable_database_url_is_a_configuration_error_without_its_password(url) -> None:
    ran = resolve_sync("status", env={"RESOLVE_SYNC_DATABASE_URL": url, "RESOLVE_SYNC_SECRET_KEY": "x"})
    assert ran.code == 2 and "RESOLVE_SYNC_DATABASE_URL" in ran.err and "hunter2" not in ran.output, (
        ran.output
    )


def test_a_webserver_url_with_a_password_is_never_printed(acme) -> None:
    ran = resolve_sync("sync", "acme", env={"DAGSTER_WEBSERVER_URL": "http://user:hunter2@127.0.0.1:1"})
    assert ran.code == 5 and "hunter2" not in ran.output and "***@" in ran.err, ran.output


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_logical_date_out_of_range_is_refused(acme, day) -> None:
    ran = resolve_sync("sync", "acme", "--local", "--as-of", day)
    assert ran.code == 2 and "out of range" in ran.err, ran.output


def test_a_disabled_connection_is_not_synced_by_hand(acme) -> None:
    run("connections", "disable", "acme")
    ran = resolve_sync(*SYNC)
    assert ran.code == 2 and "disabled" in ran.err and "connections enable acme" in ran.err, ran.output


def test_rotating_with_a_key_that_cannot_read_a_connection_names_it(acme) -> None:
    ran = resolve_sync("secrets", "rotate", env={"RESOLVE_SYNC_SECRET_KEY": Fernet.generate_key().decode()})
    assert ran.code == 2 and "acme|2" in ran.err and "RESOLVE_SYNC_SECRET_KEY=NEW,OLD" in ran.err, ran.output


def test_a_credential_file_that_is_no_credential_is_refused(sandbox_server) -> None:
    args = cli_connection_args(sandbox_server)
    at = args.index("--consumer-key-file")
    args[at + 1] = "/dev/zero"
    ran = resolve_sync(*args)
    assert ran.code == 2 and "not a credential file" in ran.err, ran.output


def test_serving_on_a_port_in_use_is_a_one_line_error(tmp_path) -> None:
    import json

    from resolve_sync_tests.sandbox_helpers import fixture_dict

    fixture = tmp_path / "account.json"
    fixture.write_text(json.dumps(fixture_dict()))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ran = resolve_sync(
            "sandbox", "serve", str(fixture), "--port", str(taken.getsockname()[1]), timeout=60
        )
    assert ran.code != 0 and "pick another --port" in ran.err and "Traceback" not in ran.err, ran.output
