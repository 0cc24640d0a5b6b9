"""A canary credential used in full syncs with faults and a failure never appears anywhere a person or a
log shipper could read it: the Dagster event log, run metadata, compute logs, CLI output, exceptions, or
the store in clear text."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from resolve_sync.cli import cli
from resolve_sync.definitions import defs
from resolve_sync.defs.partitions import run_tags
from resolve_sync.defs.resources import StoreResource
from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync.store.secrets import generate_key
from resolve_sync_tests.sandbox_helpers import admin, cli_connection_args
from resolve_sync_tests.sync_helpers import AS_OF, sync_fixture

CANARY = "canary-7c1e5b0d-must-never-leak"
CREDENTIALS = {
    "consumer_key": "ck-canary",
    "consumer_secret": CANARY + "-cs",
    "token_id": "tk-canary",
    "token_secret": CANARY + "-ts",
}


def _texts_in(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


def test_the_canary_never_leaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("RESOLVE_SYNC_DATABASE_URL", store_url)
    monkeypatch.setenv("RESOLVE_SYNC_SECRET_KEY", generate_key())  # a configured database needs its key
    raw = sync_fixture(credentials={"tba": [CREDENTIALS], "oauth2_m2m": []})
    outputs: list[str] = []
    runner = CliRunner()

    def cli_run(*args: str) -> None:
        result = runner.invoke(cli, list(args))
        outputs.append(result.output + (repr(result.exception) if result.exception else ""))

    home = tmp_path / "dagster_home"
    home.mkdir()
    with SandboxServer(parse_fixture(raw)) as server, dg.instance_for_test(temp_dir=str(home)) as instance:
        cli_run("db", "upgrade")
        cli_run(*cli_connection_args(server, credentials=CREDENTIALS))
        instance.add_dynamic_partitions("connections", ["acme|2"])
        admin(server.base_url).post("/_sandbox/faults", json={"next": ["429", "500", "reset", "503"]})
        job = defs.resolve_job_def("sync_job")
        resources = {"store": StoreResource(database_url=store_url)}
        results = [
            job.execute_in_process(
                partition_key="acme|2",
                instance=instance,
                resources=resources,
                raise_on_error=False,
                tags=run_tags("acme|2", as_of=AS_OF.isoformat()),
            )
        ]
        cli_run("connections", "set-filter", "acme", "custentity_region", "--no-verify")  # a failing run next
        results.append(
            job.execute_in_process(
                partition_key="acme|2",
                instance=instance,
                resources=resources,
                raise_on_error=False,
                tags=run_tags("acme|2"),
            )
        )
        cli_run("sync", "acme", "--local")  # fails too, with an exception message
        cli_run("connections", "show", "acme")
        cli_run("connections", "list", "--json")
        cli_run("status", "--outcomes")
        assert results[0].success and not results[1].success
        events = [str(entry) for result in results for entry in instance.all_logs(result.run_id)]
        metadata = [
            str(e.materialization.metadata) for r in results for e in r.get_asset_materialization_events()
        ]
    engine_text = []
    from resolve_sync.store.database import create_store_engine

    engine = create_store_engine(store_url)
    with engine.connect() as db:
        for table in inspect(engine).get_table_names():
            engine_text += [str(row) for row in db.execute(text(f'SELECT * FROM "{table}"'))]
    engine.dispose()
    haystacks = {
        "dagster event log": "\n".join(events),
        "run metadata": "\n".join(metadata),
        "dagster home (compute logs, storage)": _texts_in(home),
        "cli output and exceptions": "\n".join(outputs),
        "store rows": "\n".join(engine_text),
        "store file": (tmp_path / "store.db").read_bytes().decode("latin-1"),
    }
    assert "INVALID_LOGIN" not in haystacks["dagster event log"]  # the syncs really authenticated
    assert "custentity_region" in haystacks["dagster event log"]  # and the failure is in the log
    for where, haystack in haystacks.items():
        assert CANARY not in haystack, f"the canary credential leaked into the {where}"
