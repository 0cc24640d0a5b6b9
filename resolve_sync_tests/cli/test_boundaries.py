"""Every value an operator (or an attacker with a shell) hands `resolve-sync` is checked where it enters:
refused in one line before anything is stored or sent. Run as a person runs it: a child process, its real
stderr and exit code, and the sandbox over real HTTP."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from resolve_sync.store.models import ResolveCustomer
from resolve_sync.store.secrets import SecretBox, generate_key
from resolve_sync_tests.cli_process import cli, local_store, refused, run_history, stored_connections
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA, admin, cli_connection_args
from resolve_sync_tests.sync_helpers import sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def _netsuite_requests(server) -> int:
    return admin(server.base_url).get("/_sandbox/stats").json()["requests_total"]


def _with(args: list[str], option: str, value: str) -> list[str]:
    """The helper's `connections add` arguments with one option's value replaced."""
    changed = list(args)
    changed[changed.index(option) + 1] = value
    return changed


# -- item 1: validation at the point of entry -------------------------------------------------------------


BAD_VALUES = [
    ("--account", "127.0.0.1:{port}#", "NetSuite account id"),
    ("--account", "", "NetSuite account id"),
    ("--account", "1234567_SB1' OR 1=1", "NetSuite account id"),
    ("--account", "1" * 5000, "NetSuite account id"),
    ("--base-url", "file:///etc/passwd", "only https URLs"),
    ("--base-url", "ftp://ftp.example.com", "only https URLs"),
    ("--base-url", "javascript:alert(1)", "only https URLs"),
    ("--base-url", "https://user:hunter2@ns.example.com", "must not contain a user name or password"),
    ("--base-url", "http://ns.example.com", "plain http is allowed only to a loopback host"),
    ("--timezone", "Not/AZone", "not an IANA time zone"),
    ("--timezone", "localtime", "not an IANA time zone"),  # whatever machine reads it: no account's zone
    ("--timezone", "Factory", "not an IANA time zone"),
    ("--subsidiary", "²", "Subsidiary id"),
]


@pytest.mark.parametrize(
    ("option", "value", "reason"), BAD_VALUES, ids=[f"{o}={v[:24]}" for o, v, _ in BAD_VALUES]
)
def test_a_bad_value_is_refused_in_one_line_before_anything_is_stored_or_sent(
    sandbox_server, option: str, value: str, reason: str
) -> None:
    value = value.format(port=sandbox_server.base_url.rsplit(":", 1)[1])
    before = _netsuite_requests(sandbox_server)
    stderr = refused(cli(*_with(cli_connection_args(sandbox_server), option, value)), reason)
    assert "hunter2" not in stderr and "1" * 100 not in stderr  # never echoed whole, never a password
    assert _netsuite_requests(sandbox_server) == before  # nothing sent
    assert stored_connections(local_store()) == []  # nothing stored


def test_account_ids_are_normalised_and_the_sandbox_still_answers(sandbox_server) -> None:
    args = _with(cli_connection_args(sandbox_server), "--account", ACCOUNT_ID.lower().replace("_", "-"))
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    shown = json.loads(cli("connections", "show", "acme", "--json").stdout)
    assert shown[0]["netsuite_account_id"] == ACCOUNT_ID  # the realm form NetSuite signs with


def test_a_stored_base_url_with_credentials_is_never_printed_and_never_called(sandbox_server) -> None:
    """A row written before validation existed (or by hand): shown redacted, refused before a request."""
    assert cli(*cli_connection_args(sandbox_server)).returncode == 0
    store = local_store()
    with store.begin() as db:
        db.execute(text("UPDATE merchant_connections SET base_url = 'https://admin:hunter2@evil.example'"))
    listed = cli("connections", "list").stdout + cli("connections", "show", "acme", "--json").stdout
    assert "hunter2" not in listed and "***@evil.example" in listed
    before = _netsuite_requests(sandbox_server)
    stderr = refused(cli("sync", "acme", "--local"), "must not contain a user name or password")
    assert "hunter2" not in stderr
    assert _netsuite_requests(sandbox_server) == before
    last = run_history(store)[-1]
    assert last.status == "failed" and last.mode == "rejected" and "user name or password" in last.error


# -- duplicates --------------------------------------------------------------------------------------------


def test_duplicates_link_checks_the_resolve_customer_and_a_resolution_can_be_removed(sandbox_server) -> None:
    assert cli(*cli_connection_args(sandbox_server)).returncode == 0
    assert cli(*cli_connection_args(sandbox_server, "globex")).returncode == 0
    store = local_store()
    with Session(store) as session, session.begin():  # customers a Resolve user created
        for cid, merchant, netsuite_id in (
            ("cus_g", "globex", None),
            ("cus_a", "acme", None),
            ("cus_l", "acme", "77"),
        ):
            session.add(
                ResolveCustomer(
                    id=cid,
                    merchant_id=merchant,
                    business_name=cid,
                    netsuite_id=netsuite_id,
                    source="resolve",
                    updated_by="user",
                )
            )
    refused(
        cli("duplicates", "link", "acme", "netsuite:10", "resolve:nosuch"), "has no Resolve customer 'nosuch'"
    )
    refused(
        cli("duplicates", "link", "acme", "netsuite:10", "resolve:cus_g"), "has no Resolve customer 'cus_g'"
    )
    refused(
        cli("duplicates", "link", "acme", "netsuite:10", "resolve:cus_l"),
        "already linked to NetSuite customer 77",
    )
    refused(cli("duplicates", "distinct", "", "netsuite:1", "netsuite:2"), "Merchant id ''")
    refused(cli("duplicates", "distinct", "Not A Merchant", "netsuite:1", "netsuite:2"), "Merchant id")
    refused(cli("duplicates", "distinct", "nobody", "netsuite:1", "netsuite:2"), "has no connection")
    refused(cli("duplicates", "distinct", "acme", "netsuite:²", "netsuite:2"), "is not a record key")
    assert cli("duplicates", "link", "acme", "netsuite:10", "resolve:cus_a").returncode == 0
    refused(
        cli("duplicates", "link", "acme", "netsuite:11", "resolve:cus_a"), "already linked to netsuite:10"
    )
    with store.connect() as db:
        assert db.execute(
            text("SELECT merchant_id, left_key, right_key FROM duplicate_resolutions")
        ).all() == [("acme", "netsuite:10", "resolve:cus_a")]
    assert cli("duplicates", "unlink", "acme", "netsuite:10", "resolve:cus_a").returncode == 0
    refused(cli("duplicates", "forget", "acme", "netsuite:10", "resolve:cus_a"), "has no resolution")
    with store.connect() as db:
        assert db.scalar(text("SELECT count(*) FROM duplicate_resolutions")) == 0


# -- item 2: secrets ----------------------------------------------------------------------------------------


def test_a_secret_on_the_command_line_is_refused_with_the_way_to_give_it(sandbox_server) -> None:
    args = cli_connection_args(sandbox_server)
    at = args.index("--consumer-secret-file")
    args[at : at + 2] = ["--consumer-secret", TBA["consumer_secret"]]
    stderr = refused(
        cli(*args), "--consumer-secret takes no value on the command line", "--consumer-secret-file"
    )
    assert TBA["consumer_secret"] not in stderr
    assert stored_connections(local_store()) == []


def test_secrets_at_the_hidden_prompt(sandbox_server) -> None:
    args = cli_connection_args(sandbox_server)
    args = args[: args.index("--consumer-key-file")]  # no secret given: asked for each
    answers = "".join(f"{TBA[n]}\n" for n in ("consumer_key", "consumer_secret", "token_id", "token_secret"))
    result = cli(*args, input=answers)
    assert result.returncode == 0, result.stderr
    assert not any(value in result.stdout + result.stderr for value in TBA.values())
    assert "succeeded" in cli("sync", "acme", "--local", "--as-of", "2026-11-26").stdout


def test_secrets_from_env_store_each_connections_own_variable_names(sandbox_server) -> None:
    base = cli_connection_args(sandbox_server)
    base = base[: base.index("--consumer-key-file")]
    env = {
        f"{prefix}_{name.upper()}": value
        for prefix in ("ACME_NS", "GLOBEX_NS")
        for name, value in TBA.items()
    }
    assert cli(*base, "--secrets-from-env", "--env-prefix", "ACME_NS", env=env).returncode == 0
    globex = ["connections", "add", "globex", *base[3:]]
    secret_env = ["--consumer-secret-env", "GLOBEX_NS_CONSUMER_SECRET"]
    result = cli(*globex, "--secrets-from-env", "--env-prefix", "GLOBEX_NS", *secret_env, env=env)
    assert result.returncode == 0, result.stderr
    refused(cli("connections", "add", "initech", *base[3:], "--secrets-from-env", env=env), "--env-prefix")
    store = local_store()
    box = SecretBox.from_environment()
    with store.connect() as db:
        stored = {
            m: box.decrypt(c, owner=m)
            for m, c in db.execute(
                text("SELECT merchant_id, credentials_encrypted FROM merchant_connections")
            )
        }
    assert stored["acme"]["token_secret"] == {"env": "ACME_NS_TOKEN_SECRET"}
    assert stored["globex"]["consumer_secret"] == {"env": "GLOBEX_NS_CONSUMER_SECRET"}
    assert "succeeded" in cli("sync", "globex", "--local", "--as-of", "2026-11-26", env=env).stdout
    missing = {k: v for k, v in env.items() if k != "GLOBEX_NS_TOKEN_SECRET"}
    refused(cli("sync", "globex", "--local", env=missing), "GLOBEX_NS_TOKEN_SECRET", "not set")
    last = run_history(store)[-1]
    assert last.mode == "rejected" and "GLOBEX_NS_TOKEN_SECRET" in last.error


def test_a_configured_database_without_a_key_is_an_error_that_says_how_to_make_one(
    sandbox_server, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"RESOLVE_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}
    assert cli("db", "upgrade", env=env, cwd=elsewhere).returncode == 0
    refused(
        cli(*cli_connection_args(sandbox_server), env=env, cwd=elsewhere),
        "RESOLVE_SYNC_SECRET_KEY is not set",
        "resolve-sync secrets generate-key",
    )
    assert not list(elsewhere.rglob("secret.key"))
    assert not (Path(os.environ["RESOLVE_SYNC_STATE_DIR"]) / "secret.key").exists()
    env["RESOLVE_SYNC_SECRET_KEY"] = cli("secrets", "generate-key").stdout.strip()
    assert cli(*cli_connection_args(sandbox_server), env=env, cwd=elsewhere).returncode == 0


def test_an_undecryptable_credential_names_the_key_source_actually_used(
    sandbox_server, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(generate_key())
    with_file = {"RESOLVE_SYNC_SECRET_KEY_FILE": str(key_file)}
    assert cli(*cli_connection_args(sandbox_server), env=with_file).returncode == 0
    refused(
        cli("sync", "acme", "--local", env={"RESOLVE_SYNC_SECRET_KEY": generate_key()}),
        "cannot be decrypted with the variable RESOLVE_SYNC_SECRET_KEY",
    )
    key_file.write_text(generate_key())
    refused(
        cli("sync", "acme", "--local", env=with_file), f"cannot be decrypted with the key file {key_file}"
    )
    history = run_history(local_store())
    assert [(r.status, r.mode) for r in history] == [("failed", "rejected")] * 2
    assert all("cannot be decrypted" in r.error for r in history)


# -- issue 14: the subsidiary is chosen when the connection is added ----------------------------------------


def test_a_multi_subsidiary_account_needs_a_choice_and_lists_the_choices(sandbox_server) -> None:
    args = cli_connection_args(sandbox_server)
    at = args.index("--subsidiary")
    without = args[:at] + args[at + 2 :]
    stderr = refused(
        cli(*without, stdin=subprocess.DEVNULL),
        "has 3 subsidiaries",
        "2 (US)",
        "3 (Canada)",
        "--subsidiary ID",
    )
    assert "Elimination" not in stderr
    refused(cli(*_with(args, "--subsidiary", "9")), "9 is not an active, non-elimination subsidiary")
    assert stored_connections(local_store()) == []
    assert cli(*without, "--no-verify").returncode == 0  # offline: the first run will ask (R2)
    assert stored_connections(local_store()) == ["acme|default"]


def test_a_terminal_picks_the_subsidiary_from_the_list(sandbox_server) -> None:
    args = cli_connection_args(sandbox_server)
    at = args.index("--subsidiary")
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "resolve_sync.cli", *args[:at], *args[at + 2 :]],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    os.write(leader, b"3\n")
    out, err = child.communicate(timeout=120)
    os.close(leader)
    assert child.returncode == 0, err
    assert "3  Canada" in err and "added connection acme|3" in out
