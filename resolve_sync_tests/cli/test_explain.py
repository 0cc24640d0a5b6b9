"""`resolve-sync explain`: an operator asks why a record is or is not in Resolve, and reads the answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import update

from resolve_sync.store.database import create_store_engine
from resolve_sync.store.migrations import upgrade
from resolve_sync.store.models import ResolveCustomer
from resolve_sync_tests.sync_helpers import FILTER, connect, customers, set_filter, sync, sync_fixture

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


@pytest.fixture
def synced(tmp_path, sandbox_server):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = create_store_engine(url)
    upgrade(store)
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    yield store, connection, url
    store.dispose()


def explain(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "resolve_sync.cli", "explain", "acme", *args],
        env={**os.environ, "RESOLVE_SYNC_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_explain_tells_a_sub_customers_story(synced) -> None:
    _, _, url = synced
    answer = explain(url, "netsuite:13")
    assert answer.returncode == 0, answer.stderr
    text = answer.stdout
    assert "NetSuite customer 13 (acme|2): in Resolve as cus_" in text
    assert "13 → 12 → 11 → 10" in text and "top-level customer is 10" in text
    assert "archived in Resolve: sub-customer of NetSuite customer 12" in text
    assert "created" in text  # the run history


def test_explain_says_why_a_record_is_not_in_resolve(synced, sandbox_server) -> None:
    store, connection, url = synced
    set_filter(store, connection, FILTER)
    sync(store, sandbox_server, connection)  # a full re-evaluation with the filter (R10)
    filtered = explain(url, "netsuite:30").stdout
    assert f"{FILTER} is not checked: not synced (records synced before are kept as they are)" in filtered
    held = explain(url, "netsuite:103").stdout  # its customer's top-level ancestor (30) is filtered out
    assert "held back" in held and "top-level customer 30" in held
    outside = explain(url, "netsuite:50")  # a customer of another subsidiary
    assert outside.returncode != 0
    assert "no run has read NetSuite record 50" in outside.stderr and "Traceback" not in outside.stderr


def test_explain_by_resolve_id_shows_edits_made_in_resolve(synced) -> None:
    store, _, url = synced
    acme = customers(store)["10"]
    with store.begin() as db:
        db.execute(
            update(ResolveCustomer)
            .where(ResolveCustomer.id == acme.id)
            .values(
                business_phone="+1 555 0100", updated_by="merchant-user", version=ResolveCustomer.version + 1
            )
        )
    answer = json.loads(explain(url, f"resolve:{acme.id}", "--json").stdout)
    facts = {f["topic"]: f["text"] for f in answer[0]["facts"]}
    assert answer[0]["netsuite_id"] == "10" and answer[0]["in_resolve"]
    assert "business_phone differ from what the sync last wrote" in facts["edited"]
    assert "merchant-user" in facts["resolve"]
